/**
 * One colour per agent or person, hashed from its id over a fixed palette, so the chat, the
 * agent panel, the file tree's lock badges and the timeline lanes all agree.
 */
export const PALETTE = [
  "#e8590c", // orange
  "#1c7ed6", // blue
  "#2f9e44", // green
  "#ae3ec9", // purple
  "#f08c00", // amber
  "#0c8599", // teal
  "#e03131", // red
  "#5c7cfa", // indigo
  "#66a80f", // lime
  "#d6336c", // pink
  "#845ef7", // violet
  "#1098ad", // cyan
] as const;

/** FNV-1a over UTF-16 code units: stable across sessions and browsers. */
export const hashId = (id: string): number => {
  let h = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) {
    h ^= id.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
};

export const colorOf = (id: string): string => PALETTE[hashId(id) % PALETTE.length]!;

export const VENDOR_LABEL: Record<string, string> = { claude: "Claude", gemini: "Gemini", kimi: "Kimi", codex: "Codex", custom: "custom" };
export const vendorLabel = (vendor: string): string => VENDOR_LABEL[vendor] ?? vendor;

/** Initials for an avatar: "alice" → "AL", "Bob Smith" → "BS". */
export const initials = (name: string): string => {
  const parts = name.split(/[\s._-]+/).filter(Boolean);
  if (parts.length >= 2) return (parts[0]![0]! + parts[1]![0]!).toUpperCase();
  return name.slice(0, 2).toUpperCase();
};

/** Mark colour by event family (lanes show kinds, lane rows show who). */
export const KIND_COLOR: Record<string, string> = {
  lock: "#e8590c",
  prompt: "#1c7ed6",
  agent: "#2f9e44",
  workspace: "#868e96",
  task: "#ae3ec9",
  context: "#0c8599",
  bus: "#adb5bd",
  marker: "#e03131",
};
export const kindOf = (type: string): string => {
  const i = type.indexOf(".");
  return i < 0 ? type : type.slice(0, i);
};
export const kindColor = (type: string): string => KIND_COLOR[kindOf(type)] ?? "#495057";
