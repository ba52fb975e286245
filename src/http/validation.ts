import { Kind, Type, TypeRegistry } from '@sinclair/typebox'
import { ValueErrorType, type ValueError } from '@sinclair/typebox/errors'
import { t } from 'elysia'

const URL_INTEGER = 'UrlInteger'
const DIGITS = /^-?[0-9]{1,16}$/

interface Range {
  minimum?: number
  maximum?: number
}

const inRange = (n: number, { minimum, maximum }: Range) =>
  Number.isSafeInteger(n) && (minimum === undefined || n >= minimum) && (maximum === undefined || n <= maximum)

TypeRegistry.Set<Range>(URL_INTEGER, (schema, value) =>
  typeof value === 'string' ? DIGITS.test(value) && inRange(Number(value), schema) : typeof value === 'number' && inRange(value, schema),
)

/**
 * A whole number in the URL (a path parameter or a query value), arriving as a string. Elysia's
 * `t.Integer` checks the range only after validation, in a transform whose error names no field
 * (`Expected integer to be less or equal to 200`); this one checks digits and range during
 * validation, so the 422 says `limit: at most 200`. Documented as an integer.
 */
export function urlInteger(options: Range & { description?: string; default?: number } = {}) {
  return t
    .Transform(Type.Unsafe<number | string>({ ...options, type: 'integer', [Kind]: URL_INTEGER }))
    .Decode((value) => (typeof value === 'string' ? Number(value) : value))
    .Encode((value) => value)
}

type Schema = Record<string, any>
type Where = 'body' | 'query' | 'params' | string

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`

/** What a schema accepts, in plain words: "a whole number from 1 to 200", "a string of 1 to 64 characters". */
function expected(schema: Schema): string {
  if (schema.anyOf) {
    // Elysia's t.Integer is a string-or-integer union: the integer side says what is meant.
    const integer = schema.anyOf.find((s: Schema) => s.type === 'integer')
    return integer ? expected(integer) : schema.anyOf.map(expected).join(' or ')
  }
  const between = (unit: string, min?: number, max?: number) =>
    min !== undefined && max !== undefined ? ` of ${min} to ${plural(max, unit)}` : min !== undefined ? ` of at least ${plural(min, unit)}` : max !== undefined ? ` of at most ${plural(max, unit)}` : ''
  switch (schema.type) {
    case 'integer':
    case 'number': {
      const noun = schema.type === 'integer' ? 'a whole number' : 'a number'
      const { minimum: min, maximum: max } = schema
      if (min !== undefined && max !== undefined) return `${noun} from ${min} to ${max}`
      return min !== undefined ? `${noun} of at least ${min}` : max !== undefined ? `${noun} of at most ${max}` : noun
    }
    case 'string':
      return `a string${between('character', schema.minLength, schema.maxLength)}`
    case 'array':
      return `a list${between('item', schema.minItems, schema.maxItems)}`
    case 'boolean':
      return 'true or false'
    case 'object':
      return 'a JSON object'
    default:
      return 'a valid value'
  }
}

/** A short, safe rendering of what was sent. */
function shown(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'a list'
  if (typeof value === 'object') return 'an object'
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)
  return String(value)
}

/** A JSON pointer as a person writes it: `/member_ids/1` is `member_ids[1]`. */
function fieldName(path: string, where: Where): string {
  if (path === '') return where === 'params' ? 'path' : where
  return path
    .slice(1)
    .split('/')
    .map((part, i) => (/^[0-9]+$/.test(part) ? `[${part}]` : i === 0 ? part : `.${part}`))
    .join('')
}

/** The bound a value in range of its type broke, or null when it is not of its type at all. */
function brokenBound(error: ValueError): string | null {
  const { schema, value } = error
  switch (error.type) {
    case ValueErrorType.IntegerMaximum:
    case ValueErrorType.NumberMaximum:
      return `at most ${schema.maximum} (got ${shown(value)})`
    case ValueErrorType.IntegerMinimum:
    case ValueErrorType.NumberMinimum:
      return `at least ${schema.minimum} (got ${shown(value)})`
    case ValueErrorType.StringMaxLength:
      return `at most ${plural(schema.maxLength, 'character')} (got ${(value as string).length})`
    case ValueErrorType.StringMinLength:
      return `at least ${plural(schema.minLength, 'character')} (got ${(value as string).length})`
    case ValueErrorType.ArrayMaxItems:
      return `at most ${plural(schema.maxItems, 'item')} (got ${(value as unknown[]).length})`
    case ValueErrorType.ArrayMinItems:
      return `at least ${plural(schema.minItems, 'item')} (got ${(value as unknown[]).length})`
    case ValueErrorType.Kind: {
      // A URL integer: digits out of range say which bound; anything else is not a whole number.
      if (schema[Kind] !== URL_INTEGER || typeof value !== 'string' || !DIGITS.test(value)) return null
      const n = Number(value)
      if (schema.maximum !== undefined && n > schema.maximum) return `at most ${schema.maximum} (got ${n})`
      if (schema.minimum !== undefined && n < schema.minimum) return `at least ${schema.minimum} (got ${n})`
      return null
    }
    default:
      return null
  }
}

/**
 * The message of a 422: the field's path and what it expects, in plain words ("limit: at most
 * 200 (got 500)", "username: required, a string of 1 to 64 characters"). `where` is where the
 * value came from (Elysia's `body`, `query`, `params`, or `property` for a value checked in a
 * transform, whose field is not known). A schema's `error` string words a pattern.
 */
export function validationMessage(where: Where, error: ValueError | undefined): string {
  if (!error) return `${where}: invalid`
  const field = fieldName(error.path, where)
  const prefix = where === 'property' && error.path === '' ? 'a value in the URL: ' : `${field}: `
  const { schema, value } = error
  switch (error.type) {
    case ValueErrorType.ObjectRequiredProperty:
      return `${prefix}required, ${expected(schema)}`
    case ValueErrorType.ObjectAdditionalProperties:
      return `${prefix}not a field of this ${where === 'body' ? 'body' : where} (its fields: ${Object.keys(schema.properties ?? {}).join(', ')})`
    case ValueErrorType.StringPattern:
      return `${prefix}${typeof schema.error === 'string' ? schema.error : `must match ${schema.pattern}`} (got ${shown(value)})`
  }
  const bound = brokenBound(error)
  if (bound) return prefix + bound
  if (error.type === ValueErrorType.Kind || error.type === ValueErrorType.Union || schema.type !== undefined)
    return `${prefix}expected ${expected(schema)} (got ${shown(value)})`
  return `${prefix}${error.message}`
}
