/** Where a command prints: stdout or anything with `write` (tests pass a collector). */
export interface Output {
  write(text: string): unknown;
  readonly isTTY?: boolean;
}

const WIDTH = 30;

/**
 * A progress bar redrawn in place on a terminal (once per percent); nothing on a pipe, where
 * only the final summary line is useful.
 */
export const progressBar = (out: Output, label: string) => {
  let shown = -1;
  return {
    update(done: number, total: number): void {
      if (!out.isTTY) return;
      const ratio = total === 0 ? 1 : done / total;
      const percent = Math.floor(ratio * 100);
      if (percent === shown) return;
      shown = percent;
      const filled = Math.round(ratio * WIDTH);
      const bar = `${"█".repeat(filled)}${"░".repeat(WIDTH - filled)}`;
      out.write(`\r${label} ${bar} ${String(percent).padStart(3)}% ${done.toLocaleString("en")}/${total.toLocaleString("en")} events`);
    },
    end(): void {
      if (out.isTTY && shown >= 0) out.write("\n");
    },
  };
};
