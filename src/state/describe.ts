// Names for runs, derived from the schema: a setting's symbol comes from its label ("Width n" -> "n",
// "LoRA+ ratio λ" -> "λ"), so legends say what differs between runs: "Init[A] vs Init[B], λ = 16, n = 1024".
import { TOY_FIELDS, TOY_KEYS, type ToyConfig, type ToyKey } from '../experiments/toy/config.ts';
import { formatNumber } from './series.ts';

/** Display names of enum options where the raw option is terse (the toy's and GPT-2's keys alike). */
export const OPTION_LABELS: Readonly<Record<string, Record<string, string>>> = {
  init: { A: 'Init[A]', B: 'Init[B]' },
  initDist: { gaussian: 'Gaussian', uniform: 'Uniform' },
  activation: { relu: 'ReLU', tanh: 'tanh', gelu: 'GELU' },
};

/** Settings named in a chart's title even when every run shares them. */
export const HEADLINE_KEYS: readonly ToyKey[] = ['lambda', 'n', 'eta'];

/** "n" for "Width n", "λ" for "LoRA+ ratio λ", "η" for "Learning rate η (A)"; the label itself otherwise. */
export function symbolOf(key: ToyKey): string {
  const label = TOY_FIELDS[key].label.replace(/\s*\(.*\)\s*$/, '');
  const last = label.split(/\s+/).pop() ?? label;
  return [...last].length <= 2 ? last : label;
}

export function optionLabel(key: string, option: string): string {
  return (Object.hasOwn(OPTION_LABELS, key) ? OPTION_LABELS[key][option] : undefined) ?? option;
}

/** One setting as text: "λ = 16", "Init[B]", "rsLoRA scale on". */
export function describeSetting(key: ToyKey, value: ToyConfig[ToyKey]): string {
  const spec = TOY_FIELDS[key];
  if (spec.kind === 'enum') return key === 'init' ? optionLabel(key, String(value)) : `${symbolOf(key)} ${optionLabel(key, String(value))}`;
  if (spec.kind === 'bool') return `${spec.label} ${value ? 'on' : 'off'}`;
  return `${symbolOf(key)} = ${formatNumber(value as number, 4)}`;
}

/** Settings whose value is not the same in every config. */
export function differingKeys(configs: readonly ToyConfig[]): ToyKey[] {
  return TOY_KEYS.filter((k) => configs.some((c) => c[k] !== configs[0][k]));
}

/**
 * A title for a set of runs and a short label for each: the labels name what differs, the title puts
 * them side by side and adds the shared headline settings.
 */
export function describeRuns(configs: readonly ToyConfig[]): { title: string; labels: string[] } {
  if (configs.length === 0) return { title: '', labels: [] };
  const diff = differingKeys(configs);
  const shared = HEADLINE_KEYS.filter((k) => !diff.includes(k)).map((k) => describeSetting(k, configs[0][k]));
  if (configs.length === 1 || diff.length === 0) {
    const one = [describeSetting('init', configs[0].init), ...shared].join(', ');
    return { title: one, labels: configs.map(() => describeSetting('init', configs[0].init)) };
  }
  const labels = configs.map((c) => diff.map((k) => describeSetting(k, c[k])).join(', '));
  const distinct = [...new Set(labels)];
  const head = distinct.length <= 3 ? distinct.join(' vs ') : `${distinct.length} runs differing in ${diff.map(symbolOf).join(', ')}`;
  return { title: [head, ...shared].join(', '), labels };
}
