import { logDir } from "@atelier/events";
import { DIR } from "../world/config.ts";
import type { World } from "../world/world.ts";

/**
 * The run as the replay viewer opens it: every line of the final log, byte for byte, with the
 * simulator's marker lines placed after the last event they saw (`afterSeq`). Markers carry no
 * `seq`, so the viewer keeps them as markers, never as events.
 */
export const timelineOf = (world: World): string => {
  const dir = logDir(DIR);
  const lines: string[] = [];
  for (const name of world.storage.list(dir).filter((n) => n.endsWith(".jsonl"))) {
    const text = new TextDecoder().decode(world.storage.readFile(`${dir}/${name}`));
    for (const line of text.split("\n")) if (line !== "") lines.push(line);
  }
  const out: string[] = [];
  let m = 0;
  const markers = world.markers;
  const flushUpTo = (seq: number) => {
    while (m < markers.length && markers[m]!.afterSeq <= seq) out.push(JSON.stringify(markers[m++]));
  };
  flushUpTo(0);
  lines.forEach((line, i) => {
    out.push(line);
    flushUpTo(i + 1);
  });
  while (m < markers.length) out.push(JSON.stringify(markers[m++]));
  return `${out.join("\n")}\n`;
};
