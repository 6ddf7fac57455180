// The add-in's PNG icons, drawn from the Thunderbird extension's icon.svg (scripts/draw-icons.ts).
import { join } from "node:path";
import { drawIcons, type Icon } from "../../scripts/draw-icons.js";
import { PACKAGE_DIR } from "./paths.js";
import { COLOR_ICON, ICON_SIZES, OUTLINE_ICON, iconFile } from "./source.js";

const SVG = join(PACKAGE_DIR, "..", "addin-thunderbird", "icon.svg");

export const ICONS: Icon[] = [
  ...ICON_SIZES.map((size) => ({ file: iconFile(size), size })),
  COLOR_ICON,
  { ...OUTLINE_ICON, outline: true },
];

export const writeIcons = (dir: string): Promise<void> => drawIcons(SVG, ICONS, dir);
