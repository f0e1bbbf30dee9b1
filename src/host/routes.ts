// HTTP trigger route templates as the Functions host (ASP.NET routing) reads them: literal segments
// (case-insensitive), {name}, optional {name?}, defaults {name=value}, constraints {id:int},
// catch-all {*rest}, and parameters inside a segment ("file.{ext}").
export interface RouteTemplate {
  template: string;
  match(path: string): Record<string, string> | undefined;
  /** Literal characters, to try more specific routes first (as ASP.NET does). */
  specificity: number;
  /** Parameters, in order; for printing and for checking optional ones. */
  params: string[];
}

interface Param {
  name: string;
  optional: boolean;
  catchAll: boolean;
  defaultValue?: string;
  constraints: string[];
}

const CONSTRAINT_TESTS: Record<string, (v: string) => boolean> = {
  int: (v) => /^-?\d+$/.test(v),
  long: (v) => /^-?\d+$/.test(v),
  bool: (v) => /^(true|false)$/i.test(v),
  guid: (v) => /^(\{)?[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}(\})?$/i.test(v),
  alpha: (v) => /^[a-z]+$/i.test(v),
  decimal: (v) => /^-?\d+(\.\d+)?$/.test(v),
  double: (v) => /^-?\d+(\.\d+)?([eE][-+]?\d+)?$/.test(v),
  float: (v) => /^-?\d+(\.\d+)?([eE][-+]?\d+)?$/.test(v),
  datetime: (v) => !isNaN(Date.parse(v)),
};

function checkConstraint(c: string, v: string): boolean {
  const m = /^(\w+)(?:\((.*)\))?$/s.exec(c);
  if (!m) return true;
  const [, kind, arg] = m;
  switch (kind.toLowerCase()) {
    case "min": return Number(v) >= Number(arg);
    case "max": return Number(v) <= Number(arg);
    case "range": {
      const [lo, hi] = (arg ?? "").split(",").map(Number);
      return Number(v) >= lo && Number(v) <= hi;
    }
    case "minlength": return v.length >= Number(arg);
    case "maxlength": return v.length <= Number(arg);
    case "length": {
      const [a, b] = (arg ?? "").split(",").map(Number);
      return b === undefined ? v.length === a : v.length >= a && v.length <= b;
    }
    case "regex":
      try {
        return new RegExp(arg ?? "", "i").test(v);
      } catch {
        return true;
      }
    default: {
      const t = CONSTRAINT_TESTS[kind.toLowerCase()];
      return t ? t(v) : true; // unknown constraints do not reject
    }
  }
}

function parseParam(body: string): Param {
  let text = body;
  const catchAll = text.startsWith("*");
  if (catchAll) text = text.replace(/^\*+/, "");
  let defaultValue: string | undefined;
  const eq = text.indexOf("=");
  if (eq >= 0) {
    defaultValue = text.slice(eq + 1);
    text = text.slice(0, eq);
  }
  const optional = text.endsWith("?");
  if (optional) text = text.slice(0, -1);
  const [name, ...constraints] = text.split(":");
  return { name, optional: optional || defaultValue !== undefined || catchAll, catchAll, defaultValue, constraints };
}

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** Compiles a route template (without the route prefix). */
export function compileRoute(template: string): RouteTemplate {
  const clean = template.replace(/^\/+|\/+$/g, "");
  const segments = clean === "" ? [] : clean.split("/");
  const params: Param[] = [];
  let pattern = "^";
  let specificity = 0;
  for (const seg of segments) {
    // A segment that is one optional parameter may be left out together with its slash.
    const whole = /^\{([^{}]+)\}$/.exec(seg);
    if (whole) {
      const p = parseParam(whole[1]);
      params.push(p);
      const group = p.catchAll ? "(.*)" : "([^/]+)";
      pattern += p.optional ? `(?:/${group})?` : `/${group}`;
      continue;
    }
    pattern += "/";
    let rest = seg;
    for (;;) {
      const m = /\{([^{}]+)\}/.exec(rest);
      if (!m) {
        pattern += escapeRe(rest);
        specificity += rest.length;
        break;
      }
      const lit = rest.slice(0, m.index);
      pattern += escapeRe(lit);
      specificity += lit.length;
      const p = parseParam(m[1]);
      params.push(p);
      pattern += p.optional ? "([^/]*)" : "([^/]+)";
      rest = rest.slice(m.index + m[0].length);
    }
  }
  const re = new RegExp(pattern + "/?$", "i");
  return {
    template: clean,
    specificity,
    params: params.map((p) => p.name),
    match(path: string) {
      const trimmed = path.replace(/^\/+|\/+$/g, "");
      const m = re.exec(trimmed ? "/" + trimmed : "");
      if (!m) return undefined;
      const values: Record<string, string> = {};
      for (let i = 0; i < params.length; i++) {
        const p = params[i];
        const raw = m[i + 1];
        let v: string | undefined;
        if (raw !== undefined && raw !== "") {
          try {
            v = p.catchAll ? raw.split("/").map(decodeURIComponent).join("/") : decodeURIComponent(raw);
          } catch {
            return undefined;
          }
        } else v = p.defaultValue;
        if (v === undefined) {
          if (!p.optional) return undefined;
          continue;
        }
        for (const c of p.constraints) if (!checkConstraint(c, v)) return undefined;
        values[p.name] = v;
      }
      return values;
    },
  };
}

/** Orders routes the way ASP.NET picks among matches: more literal text first, then fewer parameters. */
export function byPrecedence<T extends { route: RouteTemplate }>(a: T, b: T): number {
  return b.route.specificity - a.route.specificity || a.route.params.length - b.route.params.length;
}
