// How values look to a person: unknown and sensitive values say so instead of showing a value.
import { isUnknown } from '../../core/ref.js';

export function isSensitive(v: unknown): boolean {
  return (
    typeof v === 'object' &&
    v !== null &&
    (v as { sensitive?: unknown }).sensitive === true &&
    Object.keys(v).length === 1
  );
}

export function showValue(v: unknown, max = 160): string {
  if (v === undefined) return '(none)';
  if (isUnknown(v)) return '(known after apply)';
  if (isSensitive(v)) return '(sensitive)';
  const text =
    typeof v === 'string'
      ? JSON.stringify(v)
      : JSON.stringify(v, (_k, x) =>
          isUnknown(x) ? '(known after apply)' : isSensitive(x) ? '(sensitive)' : x,
        );
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
