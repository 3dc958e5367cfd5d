// `{{run.id}}` in a custom action's arguments, URL, headers and body: the run's facts, substituted
// as values (an argument stays one argument; a JSON body's strings stay strings). An unknown name
// is a config error, found when lifeboat.yml is read, not mid-failover.

export const TEMPLATE_VARIABLES = [
  'run.id',
  'run.kind',
  'runbook',
  'service',
  'step',
  'attempt',
  'idempotency_key',
  'phase',
  'eta',
] as const;
export type TemplateVariable = (typeof TEMPLATE_VARIABLES)[number];
/** What a template is filled with; a name left out stays as written (a plan, before the run). */
export type TemplateValues = Partial<Record<TemplateVariable, string>>;

const PLACEHOLDER = /\{\{\s*([a-z_.]+)\s*\}\}/g;

/** The placeholders in `text` that are not variables. */
export function unknownPlaceholders(text: string): string[] {
  return [...text.matchAll(PLACEHOLDER)]
    .map((match) => match[1] ?? '')
    .filter((name) => !(TEMPLATE_VARIABLES as readonly string[]).includes(name));
}

export function fillTemplate(text: string, values: TemplateValues): string {
  return text.replace(
    PLACEHOLDER,
    (whole, name: string) => values[name as TemplateVariable] ?? whole,
  );
}

/** Every string inside a JSON-like value, filled in; keys and other values as they are. */
export function fillDeep(value: unknown, values: TemplateValues): unknown {
  if (typeof value === 'string') return fillTemplate(value, values);
  if (Array.isArray(value)) return value.map((each) => fillDeep(each, values));
  if (value !== null && typeof value === 'object')
    return Object.fromEntries(
      Object.entries(value).map(([key, each]) => [key, fillDeep(each, values)]),
    );
  return value;
}

/** Every string inside a JSON-like value. */
export function stringsIn(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap(stringsIn);
  if (value !== null && typeof value === 'object') return Object.values(value).flatMap(stringsIn);
  return [];
}
