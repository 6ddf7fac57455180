// Configuration parsing, environment overrides and file loading (server/src/config/load.ts).
import assert from "node:assert/strict";
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { ConfigError, loadConfig, parseConfig } from "../src/config/load.js";
import { tlsProbeFromConfig } from "../src/delivery/tls-probe-config.js";

/** Runs `fn` and returns the ConfigError message it throws. */
function configError(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected ConfigError, got ${String(err)}`);
    return err.message;
  }
  assert.fail("expected a ConfigError");
}

describe("parseConfig: defaults", () => {
  const defaults = parseConfig({}, "test");

  const cases: [path: string, value: unknown][] = [
    ["dataDir", "./data"],
    ["shutdownSeconds", 30],
    ["publicUrl", null],
    ["http.host", "0.0.0.0"],
    ["http.port", 8080],
    ["smtp.port", 2587],
    ["smtp.implicitTlsPort", null],
    ["http.httpsPort", null],
    ["outlook.sendMode", "softBlock"],
    ["outlook.handoff", "relay"],
    ["smtp.requireTlsForAuth", true],
    ["smtp.allowPlainAuthFromLoopback", false],
    ["smtp.maxMessageBytes", 25 * 1024 * 1024],
    ["smtp.maxHeaderBytes", 256 * 1024],
    ["smtp.maxRecipients", 500],
    ["smtp.trustedNetworks", []],
    ["smtp.tls", { cert: null, key: null }],
    ["smtp.authFailures", { perUser: 5, perIp: 20, windowSeconds: 900 }],
    ["auth.concurrentPasswordChecks", 2],
    ["auth.queuedPasswordChecks", 16],
    ["auth.apiTokenDays", 90],
    ["metrics.allowNetworks", ["127.0.0.0/8", "::1/128"]],
    ["organization.timezone", "Asia/Tokyo"],
    ["organization.language", "ja"],
    ["organization.holdMinutes", 5],
    ["organization.internalDomains", []],
    ["relay.url", "outbox"],
    ["relay.rejectUnauthorized", true],
    ["relay.retryDelaysSeconds", [300, 600, 1800, 3600, 7200, 14400]],
    ["relay.giveUpAfterSeconds", 2 * 24 * 3600],
    ["analysis.maxBytesInFlight", 64 * 1024 * 1024],
    ["analysis.threads", 2],
    ["notify.from", null],
    ["log.level", "info"],
  ];
  for (const [path, value] of cases) {
    test(`${path} defaults to ${JSON.stringify(value)}`, () => {
      const actual = path
        .split(".")
        .reduce<unknown>((node, key) => (node as Record<string, unknown>)[key], defaults);
      assert.deepEqual(actual, value);
    });
  }

  test("the SMTP hostname defaults to a non-empty string", () => {
    assert.equal(typeof defaults.smtp.hostname, "string");
    assert.ok(defaults.smtp.hostname.length > 0);
  });

  test("null and undefined documents (an empty YAML file) give the defaults", () => {
    assert.deepEqual(parseConfig(null, "test"), defaults);
    assert.deepEqual(parseConfig(undefined, "test"), defaults);
  });

  test("a partial section keeps the defaults of its other keys", () => {
    const c = parseConfig({ smtp: { port: 587 }, organization: { holdMinutes: 10 } }, "test");
    assert.equal(c.smtp.port, 587);
    assert.equal(c.smtp.maxRecipients, 500);
    assert.equal(c.organization.holdMinutes, 10);
    assert.equal(c.organization.timezone, "Asia/Tokyo");
  });

  test("domain lists are lower-cased and keep wildcards and exclusions", () => {
    const c = parseConfig(
      { organization: { internalDomains: ["Corp.Example", "*.CORP.example", "!Guest.corp.example"] } },
      "t",
    );
    assert.deepEqual(c.organization.internalDomains, [
      "corp.example",
      "*.corp.example",
      "!guest.corp.example",
    ]);
  });

  test("parseConfig does not modify the document it is given", () => {
    const doc = { http: { port: 1 } };
    parseConfig(doc, "test", { SENDGUARD_HTTP_PORT: "2" });
    assert.deepEqual(doc, { http: { port: 1 } });
  });
});

describe("parseConfig: environment overrides", () => {
  const cases: [env: Record<string, string>, path: string, value: unknown][] = [
    [{ SENDGUARD_HTTP_PORT: "9090" }, "http.port", 9090],
    [{ SENDGUARD_SMTP_PORT: "587" }, "smtp.port", 587],
    [{ SENDGUARD_HTTPS_PORT: "8443" }, "http.httpsPort", 8443],
    [{ SENDGUARD_DATA_DIR: "/var/lib/sendguard" }, "dataDir", "/var/lib/sendguard"],
    [{ SENDGUARD_RELAY_URL: "smtp://relay.example:25" }, "relay.url", "smtp://relay.example:25"],
    [{ SENDGUARD_RELAY_URL: "outbox" }, "relay.url", "outbox"],
    [
      { SENDGUARD_PUBLIC_URL: "https://sendguard.example.co.jp" },
      "publicUrl",
      "https://sendguard.example.co.jp",
    ],
    [{ SENDGUARD_HTTP_PORT: "" }, "http.port", 1234], // an empty variable is ignored
  ];
  for (const [env, path, value] of cases) {
    test(`${JSON.stringify(env)} sets ${path} to ${JSON.stringify(value)} over the file`, () => {
      const file = {
        http: { port: 1234 },
        smtp: { port: 2525 },
        dataDir: "./file-data",
        relay: { url: "outbox" },
      };
      const c = parseConfig(file, "test", env);
      const actual = path
        .split(".")
        .reduce<unknown>((node, key) => (node as Record<string, unknown>)[key], c);
      assert.deepEqual(actual, value);
    });
  }

  test("an override keeps the other keys of its section", () => {
    const c = parseConfig({ http: { host: "127.0.0.1", port: 1 } }, "test", { SENDGUARD_HTTP_PORT: "8081" });
    assert.deepEqual(c.http, { host: "127.0.0.1", port: 8081, httpsPort: null });
  });

  const badPorts = ["abc", "80a", "-1", "8080.5", " 8080", "0x50"];
  for (const value of badPorts) {
    test(`SENDGUARD_HTTP_PORT=${JSON.stringify(value)} is refused, naming the variable`, () => {
      const message = configError(() => parseConfig({}, "test", { SENDGUARD_HTTP_PORT: value }));
      assert.match(message, /^SENDGUARD_HTTP_PORT: expected a port number/);
      assert.ok(message.includes(JSON.stringify(value)));
    });
  }

  test("SENDGUARD_SMTP_PORT=smtp is refused, naming the variable", () => {
    assert.match(
      configError(() => parseConfig({}, "test", { SENDGUARD_SMTP_PORT: "smtp" })),
      /^SENDGUARD_SMTP_PORT:/,
    );
  });

  test("an out-of-range port from the environment is refused, naming the key", () => {
    assert.match(
      configError(() => parseConfig({}, "test", { SENDGUARD_HTTP_PORT: "70000" })),
      /http\.port: .*65535/,
    );
  });

  test("a bad relay URL from the environment is refused, naming relay.url", () => {
    assert.match(
      configError(() => parseConfig({}, "test", { SENDGUARD_RELAY_URL: "relay.example:25" })),
      /relay\.url: expected smtp:\/\//,
    );
  });

  test("an override does not hide a wrongly typed section in the file", () => {
    assert.match(
      configError(() => parseConfig({ http: 5 }, "test", { SENDGUARD_HTTP_PORT: "81" })),
      /http: /,
    );
  });
});

describe("parseConfig: errors name the key", () => {
  const cases: [why: string, doc: unknown, messages: RegExp[]][] = [
    ["an unknown top-level key", { prot: 25 }, [/\(top level\): unknown key prot \(check the spelling/]],
    ["several unknown top-level keys", { foo: 1, bar: 2 }, [/\(top level\): unknown keys foo, bar/]],
    ["an unknown nested key", { smtp: { prot: 25 } }, [/smtp: unknown key prot/]],
    [
      "an unknown deeply nested key",
      { smtp: { authFailures: { perUsr: 3 } } },
      [/smtp\.authFailures: unknown key perUsr/],
    ],
    [
      "a port given as a string",
      { http: { port: "8080" } },
      [/http\.port: .*expected number, received string/],
    ],
    ["a port out of range", { smtp: { port: 65536 } }, [/smtp\.port: /]],
    ["a fractional port", { smtp: { port: 25.5 } }, [/smtp\.port: /]],
    ["a boolean given as a string", { relay: { rejectUnauthorized: "no" } }, [/relay\.rejectUnauthorized: /]],
    ["a section given as a scalar", { organization: "corp" }, [/organization: /]],
    [
      "a list given as a string",
      { organization: { internalDomains: "corp.example" } },
      [/organization\.internalDomains: /],
    ],
    [
      "a bad list element",
      { organization: { internalDomains: ["ok.example", "bad domain"] } },
      [/organization\.internalDomains\.1: expected a domain/],
    ],
    [
      "an unknown timezone",
      { organization: { timezone: "Asia/Tokio" } },
      [/organization\.timezone: expected an IANA timezone such as Asia\/Tokyo/],
    ],
    ["an unknown language", { organization: { language: "fr" } }, [/organization\.language: /]],
    ["a negative hold time", { organization: { holdMinutes: -1 } }, [/organization\.holdMinutes: /]],
    [
      "a relay URL with http",
      { relay: { url: "http://relay.example" } },
      [/relay\.url: expected smtp:\/\/host:port/],
    ],
    ["a relay URL without scheme", { relay: { url: "relay.example:25" } }, [/relay\.url: /]],
    ["an empty retry list", { relay: { retryDelaysSeconds: [] } }, [/relay\.retryDelaysSeconds: /]],
    ["a relative public URL", { publicUrl: "sendguard.example" }, [/publicUrl: expected an absolute URL/]],
    [
      "a notify sender that is not an address",
      { notify: { from: "sendguard" } },
      [/notify\.from: expected an e-mail address/],
    ],
    [
      "a CIDR without prefix length",
      { smtp: { trustedNetworks: ["10.0.0.0"] } },
      [/smtp\.trustedNetworks\.0: expected a CIDR/],
    ],
    ["an unknown log level", { log: { level: "trace" } }, [/log\.level: /]],
    [
      "several problems at once, each on its own line",
      { http: { port: "x" }, organization: { timezone: "Nowhere" }, extra: true },
      [
        /^ {2}- http\.port: /m,
        /^ {2}- organization\.timezone: /m,
        /^ {2}- \(top level\): unknown key extra/m,
      ],
    ],
  ];
  for (const [why, doc, messages] of cases) {
    test(`${why}`, () => {
      const message = configError(() => parseConfig(doc, "sendguard.yaml"));
      assert.match(message, /^invalid configuration in sendguard\.yaml:\n/);
      for (const m of messages) assert.match(message, m);
    });
  }

  const notObjects: [string, unknown][] = [
    ["an array", [1, 2]],
    ["a string", "port: 25"],
    ["a number", 42],
    ["a boolean", true],
  ];
  for (const [why, doc] of notObjects) {
    test(`${why} at the top level is refused with the source name`, () => {
      assert.match(
        configError(() => parseConfig(doc, "my.yaml")),
        /^my\.yaml: expected a mapping of keys/,
      );
    });
  }
});

describe("parseConfig: trusted networks", () => {
  const trusted = (ranges: string[]) =>
    parseConfig({ smtp: { trustedNetworks: ranges } }, "t").smtp.trustedNetworks;

  const accepted = [
    "10.0.0.0/8",
    "192.168.10.0/24",
    "203.0.113.7/32",
    "2001:db8::/32",
    "2001:db8:1234::/48",
    "::1/128",
    "::ffff:10.0.0.0/104", // IPv4-mapped, as wide as 10.0.0.0/8
    "::ffff:c0a8:a00/120", // IPv4-mapped in hex: 192.168.10.0/24
  ];
  for (const range of accepted) {
    test(`${range} is accepted`, () => assert.deepEqual(trusted([range]), [range]));
  }

  const tooWide: [range: string, message: RegExp][] = [
    ["0.0.0.0/0", /0\.0\.0\.0\/0 is wider than \/8: hosts in it could submit mail without AUTH/],
    ["10.0.0.0/7", /10\.0\.0\.0\/7 is wider than \/8/],
    ["::/0", /::\/0 is wider than \/32/],
    ["2001:db8::/31", /2001:db8::\/31 is wider than \/32/],
    [
      "::ffff:0.0.0.0/96",
      /::ffff:0\.0\.0\.0\/96 holds IPv4-mapped addresses .* IPv4 range \/0, wider than \/8/,
    ],
    ["::ffff:0:0/96", /::ffff:0:0\/96 holds IPv4-mapped addresses .* \/0/],
    ["0:0:0:0:0:ffff:0:0/100", /IPv4 range \/4, wider than \/8/],
    ["::ffff:10.0.0.0/103", /IPv4 range \/7, wider than \/8/],
    ["::/80", /::\/80 holds IPv4-mapped addresses .* \/0/], // IPv6 /80 but every IPv4 client
  ];
  for (const [range, message] of tooWide) {
    test(`${range} is refused, naming the range and what to list instead`, () => {
      const text = configError(() => parseConfig({ smtp: { trustedNetworks: ["10.1.0.0/16", range] } }, "t"));
      assert.match(text, /smtp\.trustedNetworks\.1: /);
      assert.match(text, message);
      assert.match(text, /list only your own mail servers' ranges/);
    });
  }

  const malformed = [
    "10.0.0.0",
    "10.0.0.0/33",
    "2001:db8::/129",
    "999.0.0.0/8",
    "10.0.0.0/8/8",
    "fe80::1%eth0/128",
    "corp.example/24",
  ];
  for (const range of malformed) {
    test(`${JSON.stringify(range)} is not a range`, () => {
      assert.match(
        configError(() => trusted([range])),
        /smtp\.trustedNetworks\.0: (expected a CIDR such as 10\.0\.0\.0\/8|.*the prefix length of an IPv[46] range is at most)/,
      );
    });
  }

  test("metrics.allowNetworks takes only ranges too", () => {
    assert.match(
      configError(() => parseConfig({ metrics: { allowNetworks: ["localhost"] } }, "t")),
      /metrics\.allowNetworks\.0: expected a CIDR/,
    );
  });
});

describe("parseConfig: the recipient TLS probe", () => {
  const probe = (tlsProbe: unknown) => parseConfig({ tlsProbe }, "t").tlsProbe;

  test("defaults: the system's resolvers, port 25, bundled CAs, public addresses only, MTA-STS policies on 443", () => {
    assert.deepEqual(probe({}), {
      dnsServers: null,
      port: 25,
      ca: null,
      allowNonPublic: false,
      mtaStsPort: 443,
    });
  });

  const servers = ["192.0.2.53", "127.0.0.1:5353", "2001:db8::53", "[2001:db8::53]:5353", "[::1]"];
  test(`DNS servers as Resolver#setServers takes them: ${servers.join(", ")}`, () => {
    assert.deepEqual(probe({ dnsServers: servers }).dnsServers, servers);
  });

  for (const server of [
    "dns.example",
    "127.0.0.1:0",
    "127.0.0.1:65536",
    "2001:db8::53:5353x",
    "[192.0.2.1]:53",
    "",
  ]) {
    test(`DNS server ${JSON.stringify(server)} is refused, saying what is expected`, () => {
      assert.match(
        configError(() => probe({ dnsServers: ["192.0.2.53", server] })),
        /tlsProbe\.dnsServers\.1: expected a DNS server's IP address, optionally with a port \(192\.0\.2\.53, 192\.0\.2\.53:5353/,
      );
    });
  }

  test("an empty list of DNS servers is refused: null means the system's", () => {
    assert.match(
      configError(() => probe({ dnsServers: [] })),
      /tlsProbe\.dnsServers: list at least one DNS server, or set null/,
    );
  });

  test("a CA file that cannot be read stops the start, naming the key and what to give", async () => {
    await assert.rejects(
      tlsProbeFromConfig(parseConfig({ tlsProbe: { ca: "/nonexistent/ca.pem" } }, "t")),
      (err: unknown) =>
        err instanceof ConfigError &&
        /^tlsProbe\.ca: cannot read \/nonexistent\/ca\.pem \(ENOENT\); give a PEM file of CA certificates, or set null$/.test(
          err.message,
        ),
    );
  });

  test("port 0 is refused: the probe connects to it", () => {
    assert.match(
      configError(() => probe({ port: 0 })),
      /tlsProbe\.port: /,
    );
  });
});

describe("loadConfig", () => {
  const dir = mkdtempSync(join(tmpdir(), "sendguard-config-test-"));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const write = (name: string, text: string) => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  };

  test("reads a YAML file", () => {
    const path = write(
      "sendguard.yaml",
      "# comment\nhttp:\n  port: 8443\norganization:\n  name: 株式会社サンプル\n  internalDomains: [corp.example, '*.corp.example']\n  timezone: UTC\n",
    );
    const c = loadConfig(path, {});
    assert.equal(c.http.port, 8443);
    assert.equal(c.organization.name, "株式会社サンプル");
    assert.deepEqual(c.organization.internalDomains, ["corp.example", "*.corp.example"]);
    assert.equal(c.organization.timezone, "UTC");
    assert.equal(c.smtp.port, 2587);
  });

  test("reads a .yml file as YAML", () => {
    assert.equal(loadConfig(write("s.yml", "smtp:\n  port: 25\n"), {}).smtp.port, 25);
  });

  test("reads a JSON file", () => {
    const path = write(
      "sendguard.json",
      JSON.stringify({ smtp: { port: 587 }, relay: { url: "smtps://u:p@relay.example:465" } }),
    );
    const c = loadConfig(path, {});
    assert.equal(c.smtp.port, 587);
    assert.equal(c.relay.url, "smtps://u:p@relay.example:465");
  });

  test("an upper-case .JSON extension is read as JSON", () => {
    assert.equal(loadConfig(write("UPPER.JSON", '{"http":{"port":1}}'), {}).http.port, 1);
  });

  test("an empty YAML file gives the defaults", () => {
    assert.equal(loadConfig(write("empty.yaml", ""), {}).http.port, 8080);
  });

  test("without a file or SENDGUARD_CONFIG every key has its default", () => {
    assert.equal(loadConfig(undefined, {}).http.port, 8080);
  });

  test("SENDGUARD_CONFIG names the file when none is given", () => {
    const path = write("from-env.yaml", "http:\n  port: 7001\n");
    assert.equal(loadConfig(undefined, { SENDGUARD_CONFIG: path }).http.port, 7001);
  });

  test("an explicit file wins over SENDGUARD_CONFIG", () => {
    const a = write("a.yaml", "http:\n  port: 7002\n");
    const b = write("b.yaml", "http:\n  port: 7003\n");
    assert.equal(loadConfig(a, { SENDGUARD_CONFIG: b }).http.port, 7002);
  });

  test("environment overrides apply on top of the file", () => {
    const path = write("env.yaml", "http:\n  port: 7004\n");
    assert.equal(loadConfig(path, { SENDGUARD_HTTP_PORT: "7005" }).http.port, 7005);
  });

  test("a missing file is a ConfigError naming the path", () => {
    const path = join(dir, "does-not-exist.yaml");
    const message = configError(() => loadConfig(path, {}));
    assert.ok(message.startsWith(`cannot read config file ${path}:`), message);
    assert.match(message, /ENOENT/);
  });

  test("a directory instead of a file is a ConfigError", () => {
    assert.match(
      configError(() => loadConfig(dir, {})),
      /^cannot read config file/,
    );
  });

  test("a path below a regular file is a ConfigError", () => {
    const path = join(write("plain.yaml", "a: 1\n"), "inside.yaml");
    assert.match(
      configError(() => loadConfig(path, {})),
      /^cannot read config file .*ENOTDIR/,
    );
  });

  test(
    "an unreadable file is a ConfigError",
    { skip: process.getuid?.() === 0 ? "root can read any file" : false },
    () => {
      const path = write("secret.yaml", "http:\n  port: 1\n");
      chmodSync(path, 0o000);
      assert.match(
        configError(() => loadConfig(path, {})),
        /^cannot read config file .*EACCES/,
      );
    },
  );

  const invalid: [name: string, text: string, message: RegExp][] = [
    ["bad-indent.yaml", "http:\n  port: 1\n port: 2\n", /bad-indent\.yaml is not valid YAML: /],
    ["duplicate.yaml", "http:\n  port: 1\n  port: 2\n", /duplicate\.yaml is not valid YAML: .*unique/i],
    ["unclosed.yaml", "organization: { name: x\n", /unclosed\.yaml is not valid YAML: /],
    ["broken.json", '{"http": {"port": 1}', /broken\.json is not valid JSON: /],
    ["yaml-in.json", "http:\n  port: 1\n", /yaml-in\.json is not valid JSON: /],
  ];
  for (const [name, text, message] of invalid) {
    test(`${name} is a ConfigError saying which format is broken`, () => {
      assert.match(
        configError(() => loadConfig(write(name, text), {})),
        message,
      );
    });
  }

  test("a YAML list at the top level is refused with the file name", () => {
    const path = write("list.yaml", "- a\n- b\n");
    assert.match(
      configError(() => loadConfig(path, {})),
      /list\.yaml: expected a mapping of keys/,
    );
  });

  test("validation errors name the file and the key", () => {
    const path = write("typo.yaml", "smtp:\n  prot: 25\n");
    const message = configError(() => loadConfig(path, {}));
    assert.ok(message.startsWith(`invalid configuration in ${path}:`), message);
    assert.match(message, /smtp: unknown key prot/);
  });
});
