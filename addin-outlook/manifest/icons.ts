// The add-in's PNG icons, drawn from the Thunderbird extension's icon.svg by Chromium (the browser
// the tests already use), so both add-ins show one mark and no binary image is kept in the repository.
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { launchChromium } from "../../test/helpers/browser.js";
import { PACKAGE_DIR } from "./paths.js";
import { COLOR_ICON, ICON_SIZES, OUTLINE_ICON, iconFile } from "./source.js";

const SVG = join(PACKAGE_DIR, "..", "addin-thunderbird", "icon.svg");

interface Icon {
  file: string;
  size: number;
  /** The unified manifest's outline icon is white on transparent: the mark's silhouette. */
  outline?: boolean;
}

export const ICONS: Icon[] = [
  ...ICON_SIZES.map((size) => ({ file: iconFile(size), size })),
  COLOR_ICON,
  { ...OUTLINE_ICON, outline: true },
];

export async function writeIcons(dir: string): Promise<void> {
  const svg = `data:image/svg+xml;base64,${(await readFile(SVG)).toString("base64")}`;
  const browser = await launchChromium();
  try {
    const page = await browser.newPage();
    for (const icon of ICONS) {
      await page.setViewportSize({ width: icon.size, height: icon.size });
      const filter = icon.outline ? "filter:brightness(0) invert(1);" : "";
      await page.setContent(
        `<body style="margin:0;background:transparent"><img src="${svg}" width="${icon.size}" height="${icon.size}" style="display:block;${filter}"></body>`,
      );
      await page.locator("img").evaluate((img: HTMLImageElement) => img.decode());
      await writeFile(join(dir, icon.file), await page.screenshot({ omitBackground: true }));
    }
  } finally {
    await browser.close();
  }
}
