// A small XML tree and its printer: the manifest is built as data, so every attribute and text is
// escaped in one place and the printed file is the same bytes on every build.
import { escapeUTF8 } from "entities";

export interface XmlElement {
  name: string;
  attrs: Record<string, string>;
  children: XmlNode[];
}
export type XmlNode = XmlElement | { comment: string } | { text: string };

export const el = (name: string, attrs: Record<string, string> = {}, ...children: XmlNode[]): XmlElement => ({
  name,
  attrs,
  children,
});
export const comment = (value: string): XmlNode => ({ comment: value });
export const text = (value: string): XmlNode => ({ text: value });

const escape = escapeUTF8;

function print(node: XmlNode, indent: string): string {
  if ("comment" in node) {
    if (node.comment.includes("--")) throw new Error(`an XML comment cannot hold "--": ${node.comment}`);
    return `${indent}<!-- ${node.comment} -->\n`;
  }
  if ("text" in node) return `${indent}${escape(node.text)}\n`;
  const attrs = Object.entries(node.attrs)
    .map(([name, value]) => ` ${name}="${escape(value)}"`)
    .join("");
  if (node.children.length === 0) return `${indent}<${node.name}${attrs}/>\n`;
  const only = node.children[0];
  if (node.children.length === 1 && only && "text" in only) {
    return `${indent}<${node.name}${attrs}>${escape(only.text)}</${node.name}>\n`;
  }
  const inner = node.children.map((child) => print(child, `${indent}  `)).join("");
  return `${indent}<${node.name}${attrs}>\n${inner}${indent}</${node.name}>\n`;
}

export function printDocument(root: XmlElement): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n${print(root, "")}`;
}
