/**
 * Prometheus text exposition without a client library: a handful of counters and gauges is all
 * the gateway exports, and none of them carries a workspace id (the endpoint needs no token).
 */
type Labels = Readonly<Record<string, string>>;

interface Family {
  readonly help: string;
  readonly type: "counter" | "gauge";
  readonly values: Map<string, number>;
}

const labelText = (labels: Labels): string => {
  const parts = Object.entries(labels).map(([k, v]) => `${k}="${v.replace(/["\\\n]/g, "_")}"`);
  return parts.length === 0 ? "" : `{${parts.join(",")}}`;
};

export class Metrics {
  private readonly families = new Map<string, Family>();
  private readonly gauges = new Map<string, { help: string; read: () => ReadonlyArray<[Labels, number]> }>();

  /** Adds `by` to counter `name` with `labels`. */
  inc(name: string, help: string, labels: Labels = {}, by = 1): void {
    let family = this.families.get(name);
    if (!family) this.families.set(name, (family = { help, type: "counter", values: new Map() }));
    const key = labelText(labels);
    family.values.set(key, (family.values.get(key) ?? 0) + by);
  }

  /** Registers a gauge read at scrape time. */
  gauge(name: string, help: string, read: () => ReadonlyArray<[Labels, number]>): void {
    this.gauges.set(name, { help, read });
  }

  /** The current value of a counter (tests and the bench read it). */
  value(name: string, labels: Labels = {}): number {
    return this.families.get(name)?.values.get(labelText(labels)) ?? 0;
  }

  render(): string {
    const lines: string[] = [];
    for (const [name, f] of this.families) {
      lines.push(`# HELP ${name} ${f.help}`, `# TYPE ${name} ${f.type}`);
      for (const [labels, v] of f.values) lines.push(`${name}${labels} ${v}`);
    }
    for (const [name, g] of this.gauges) {
      lines.push(`# HELP ${name} ${g.help}`, `# TYPE ${name} gauge`);
      for (const [labels, v] of g.read()) lines.push(`${name}${labelText(labels)} ${v}`);
    }
    return `${lines.join("\n")}\n`;
  }
}
