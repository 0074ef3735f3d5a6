import { z } from 'zod';

/**
 * The text rules every input field of the API follows (intake, admin, and any new
 * route): a string, trimmed, at most `max` characters, and storable. Postgres text
 * and jsonb cannot hold NUL or unpaired UTF-16 surrogates (they are not valid UTF-8):
 * such input is refused here with a 400 naming the field, instead of failing in the
 * database (22021/22P05, a 500). Over-long values are refused, never cut.
 *
 *   requiredText(120)   must be present and non-blank
 *   optionalText(64)    absent, or blank (widgets post "" for skipped fields) = absent
 *   nullableText(200)   like optionalText, and JSON null passes through (to clear a value)
 */
export const STORABLE_TEXT_ERROR = 'must not contain NUL characters or unpaired Unicode surrogates';

export const isStorableText = (value: string) => value.isWellFormed() && !value.includes('\u0000');

/** Every key and string inside a JSON value is storable text. */
export function isStorableJson(value: unknown): boolean {
  if (typeof value === 'string') return isStorableText(value);
  if (Array.isArray(value)) return value.every(isStorableJson);
  if (value !== null && typeof value === 'object') {
    return Object.entries(value).every(([key, item]) => isStorableText(key) && isStorableJson(item));
  }
  return true;
}

/** Blank strings count as absent. */
export const blankToUndefined = (value: unknown) =>
  typeof value === 'string' && value.trim() === '' ? undefined : value;

/** A trimmed, storable string of at most `max` characters (the base of every text field). */
export const text = (max: number) =>
  z
    .string({ error: (issue) => (issue.input === undefined ? 'is required' : 'must be a string') })
    .trim()
    .max(max, { error: `must be at most ${max} characters` })
    .refine(isStorableText, { error: STORABLE_TEXT_ERROR });

export const requiredText = (max: number) => z.preprocess(blankToUndefined, text(max));
export const optionalText = (max: number) => z.preprocess(blankToUndefined, text(max).optional());
export const nullableText = (max: number) => z.preprocess(blankToUndefined, text(max).nullable().optional());
