// PNG icons drawn from an SVG by Chromium (the browser the tests already use), so both add-ins show
// one mark and no binary image is kept in the repository. Outlook's manifests take only raster icons;
// so do Thunderbird's notifications (its alert window re-encodes the icon as PNG).
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { launchChromium } from "../test/helpers/browser.js";

export interface Icon {
  file: string;
  size: number;
  /** White on transparent: the mark's silhouette (the unified manifest's outline icon). */
  outline?: boolean;
}

/** Draws `svgFile` once per icon into `dir`. */
export async function drawIcons(svgFile: string, icons: readonly Icon[], dir: string): Promise<void> {
  const svg = `data:image/svg+xml;base64,${(await readFile(svgFile)).toString("base64")}`;
  const browser = await launchChromium();
  try {
    const page = await browser.newPage();
    for (const icon of icons) {
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
