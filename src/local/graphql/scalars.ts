import { isIPv4, isIPv6 } from 'node:net';
import { GraphQLScalarType, Kind, type GraphQLSchema, type ValueNode } from 'graphql';

/**
 * AppSync's scalars (https://docs.aws.amazon.com/appsync/latest/devguide/scalars.html). The app's
 * SDL uses them without declaring them, as on AppSync; `scalarDefinitions` declares them and
 * `installScalars` gives the declared types their parsing and serialization.
 *
 * A value that does not parse is refused with a plain `Error`: graphql-js then reports it as a
 * validation error (literal) or a variable coercion error (variable), naming the expected type,
 * and no resolver runs. Exact AppSync validation is undocumented at the regex level; these rules
 * follow the documented text (see ../shared/fixtures/appsync/NOTES.md §6).
 */

export const AWS_SCALAR_NAMES = [
  'AWSDate',
  'AWSTime',
  'AWSDateTime',
  'AWSTimestamp',
  'AWSEmail',
  'AWSJSON',
  'AWSURL',
  'AWSPhone',
  'AWSIPAddress',
] as const;

export type AwsScalarName = (typeof AWS_SCALAR_NAMES)[number];

const DESCRIPTIONS: Record<AwsScalarName, string> = {
  AWSDate: 'An extended ISO 8601 date string in the format YYYY-MM-DD, with an optional time zone offset.',
  AWSTime: 'An extended ISO 8601 time string in the format hh:mm:ss.sss, with an optional time zone offset.',
  AWSDateTime: 'An extended ISO 8601 date and time string in the format YYYY-MM-DDThh:mm:ss.sssZ.',
  AWSTimestamp: 'An integer value representing the number of seconds before or after 1970-01-01-T00:00Z.',
  AWSEmail: 'An email address in the format local-part@domain-part as defined by RFC 822.',
  AWSJSON: 'A JSON string (RFC 8259); resolvers receive it parsed.',
  AWSURL: 'A URL as defined by RFC 1738, with a scheme, and no // in its path.',
  AWSPhone:
    'A phone number; digit groups may be separated by spaces or hyphens; without +country code, a NANP number.',
  AWSIPAddress: 'An IPv4 (dotted quad) or IPv6 (unbracketed) address, with an optional /prefix length.',
};

/** `scalar AWSDate` ... for the names the app's SDL does not declare itself. */
export function scalarDefinitions(alreadyDeclared: ReadonlySet<string>): string {
  return AWS_SCALAR_NAMES.filter((name) => !alreadyDeclared.has(name))
    .map((name) => `"""${DESCRIPTIONS[name]}"""\nscalar ${name}\n`)
    .join('\n');
}

function shown(value: unknown): string {
  let text: string;
  try {
    text = typeof value === 'string' ? value : (JSON.stringify(value) ?? String(value));
  } catch {
    text = String(value);
  }
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

function invalid(name: string, value: unknown): Error {
  return new Error(`Unable to parse \`${shown(value)}\` as a valid ${name}.`);
}

// --- dates and times ----------------------------------------------------------------------

/** `Z`, or ±hh:mm with optional :ss (the seconds are accepted by AppSync, though not ISO 8601). */
const OFFSET = '(Z|[+-]\\d{2}:\\d{2}(?::\\d{2})?)';
/** Years may be negative (-YYYY: before year 0000). */
const DATE = '(-?\\d{4})-(\\d{2})-(\\d{2})';
/** Seconds optional; the fraction (1-9 digits) only with seconds. */
const TIME = '(\\d{2}):(\\d{2})(?::(\\d{2})(?:\\.\\d{1,9})?)?';

const DATE_RE = new RegExp(`^${DATE}${OFFSET}?$`);
const TIME_RE = new RegExp(`^${TIME}${OFFSET}?$`);
/** The offset is compulsory for AWSDateTime. */
const DATE_TIME_RE = new RegExp(`^${DATE}T${TIME}${OFFSET}$`);

function daysInMonth(year: number, month: number): number {
  if (month === 2) {
    const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
    return leap ? 29 : 28;
  }
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

function validDate(year: string, month: string, day: string): boolean {
  const m = Number(month);
  const d = Number(day);
  return m >= 1 && m <= 12 && d >= 1 && d <= daysInMonth(Number(year), m);
}

function validTime(hours: string, minutes: string, seconds: string | undefined): boolean {
  return Number(hours) <= 23 && Number(minutes) <= 59 && (seconds === undefined || Number(seconds) <= 59);
}

function validOffset(offset: string | undefined): boolean {
  if (offset === undefined || offset === 'Z') return true;
  const [hours = '0', minutes = '0', seconds = '0'] = offset.slice(1).split(':');
  const total = Number(hours) * 3600 + Number(minutes) * 60 + Number(seconds);
  return Number(minutes) <= 59 && Number(seconds) <= 59 && total <= 18 * 3600;
}

export function isAwsDate(value: string): boolean {
  const match = DATE_RE.exec(value);
  return match !== null && validDate(match[1]!, match[2]!, match[3]!) && validOffset(match[4]);
}

export function isAwsTime(value: string): boolean {
  const match = TIME_RE.exec(value);
  return match !== null && validTime(match[1]!, match[2]!, match[3]) && validOffset(match[4]);
}

export function isAwsDateTime(value: string): boolean {
  const match = DATE_TIME_RE.exec(value);
  return (
    match !== null &&
    validDate(match[1]!, match[2]!, match[3]!) &&
    validTime(match[4]!, match[5]!, match[6]) &&
    validOffset(match[7])
  );
}

// --- strings --------------------------------------------------------------------------------

/** RFC 822 addr-spec, restricted to the dot-atom forms people use (no quoted local parts, no comments). */
const EMAIL_RE =
  /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

export function isAwsEmail(value: string): boolean {
  return value.length <= 254 && EMAIL_RE.test(value);
}

const SCHEME_RE = /^[A-Za-z][A-Za-z0-9+.-]*:/;

export function isAwsUrl(value: string): boolean {
  if (!SCHEME_RE.test(value) || /\s/.test(value)) return false;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return false;
  }
  return !url.pathname.includes('//');
}

/** A NANP number: NXX-NXX-XXXX with N = 2-9. */
function isNanp(digits: string): boolean {
  return /^[2-9]\d{2}[2-9]\d{6}$/.test(digits);
}

export function isAwsPhone(value: string): boolean {
  if (!/^\+?\d+(?:[ -]\d+)*$/.test(value)) return false;
  const digits = value.replace(/[^\d]/g, '');
  if (value.startsWith('+')) {
    if (digits.startsWith('1') && digits.length === 11) return isNanp(digits.slice(1));
    return digits.length >= 8 && digits.length <= 15 && !digits.startsWith('0');
  }
  if (digits.length === 11 && digits.startsWith('1')) return isNanp(digits.slice(1));
  return digits.length === 10 && isNanp(digits);
}

export function isAwsIpAddress(value: string): boolean {
  const parts = value.split('/');
  if (parts.length > 2) return false;
  const [address = '', prefix] = parts;
  const v4 = isIPv4(address);
  // No zone ids (fe80::1%eth0) and no brackets: isIPv6 rejects brackets already.
  const v6 = !v4 && !address.includes('%') && isIPv6(address);
  if (!v4 && !v6) return false;
  if (prefix === undefined) return true;
  return /^\d{1,3}$/.test(prefix) && Number(prefix) <= (v4 ? 32 : 128);
}

// --- scalar implementations -----------------------------------------------------------------

interface ScalarRules {
  /** Validates and converts a variable value or a literal's value into what resolvers receive. */
  parse(value: unknown): unknown;
  /** Which literal kinds are allowed (the literal's value goes through `parse`). */
  literalKinds: readonly Kind[];
  /** Validates and converts a resolved value into the response value. */
  serialize(value: unknown): unknown;
}

function stringRule(name: string, valid: (value: string) => boolean): ScalarRules {
  const check = (value: unknown): string => {
    if (typeof value !== 'string' || !valid(value)) throw invalid(name, value);
    return value;
  };
  return { parse: check, literalKinds: [Kind.STRING], serialize: check };
}

function timestamp(value: unknown, lenient: boolean): number {
  if (typeof value === 'number' && Number.isSafeInteger(value)) return value;
  // On output, accept integer strings too: node-postgres returns int8/numeric columns as strings.
  if (lenient && typeof value === 'string' && /^-?\d{1,16}$/.test(value)) {
    const parsed = Number(value);
    if (Number.isSafeInteger(parsed)) return parsed;
  }
  throw invalid('AWSTimestamp', value);
}

function parseJson(value: unknown): unknown {
  if (typeof value !== 'string') throw invalid('AWSJSON', value);
  try {
    return JSON.parse(value) as unknown;
  } catch {
    throw invalid('AWSJSON', value);
  }
}

const RULES: Record<AwsScalarName, ScalarRules> = {
  AWSDate: stringRule('AWSDate', isAwsDate),
  AWSTime: stringRule('AWSTime', isAwsTime),
  AWSDateTime: stringRule('AWSDateTime', isAwsDateTime),
  AWSEmail: stringRule('AWSEmail', isAwsEmail),
  AWSURL: stringRule('AWSURL', isAwsUrl),
  AWSPhone: stringRule('AWSPhone', isAwsPhone),
  AWSIPAddress: stringRule('AWSIPAddress', isAwsIpAddress),
  AWSTimestamp: {
    parse: (value) => timestamp(value, false),
    literalKinds: [Kind.INT],
    serialize: (value) => timestamp(value, true),
  },
  AWSJSON: {
    // Resolvers receive the parsed value ("automatically parsed and loaded ... as maps, lists, or
    // scalar values rather than as the literal input strings").
    parse: parseJson,
    literalKinds: [Kind.STRING],
    // Responses carry a JSON string: values are encoded; a string that is valid JSON is taken as
    // already encoded (data sources often return JSON.stringify(...)), any other string is encoded.
    serialize: (value) => {
      if (typeof value === 'string') {
        try {
          JSON.parse(value);
          return value;
        } catch {
          return JSON.stringify(value);
        }
      }
      const text = JSON.stringify(value);
      if (text === undefined) throw invalid('AWSJSON', value);
      return text;
    },
  },
};

function literalValue(node: ValueNode): unknown {
  if (node.kind === Kind.INT) return Number(node.value);
  if (node.kind === Kind.STRING) return node.value;
  return undefined;
}

/** A standalone GraphQLScalarType for one AWS scalar (used by tests and by `installScalars`). */
export function awsScalar(name: AwsScalarName): GraphQLScalarType {
  const rules = RULES[name];
  return new GraphQLScalarType({
    name,
    description: DESCRIPTIONS[name],
    serialize: rules.serialize,
    parseValue: rules.parse,
    parseLiteral: (node) => {
      if (!rules.literalKinds.includes(node.kind)) {
        throw new Error(`Unable to parse a ${node.kind} literal as a valid ${name}.`);
      }
      return rules.parse(literalValue(node));
    },
  });
}

/** Gives the AWS scalar types of a freshly built schema their implementation (the schema is ours alone). */
export function installScalars(schema: GraphQLSchema): void {
  for (const name of AWS_SCALAR_NAMES) {
    const type = schema.getType(name);
    if (!(type instanceof GraphQLScalarType)) continue;
    const implementation = awsScalar(name);
    type.serialize = implementation.serialize;
    type.parseValue = implementation.parseValue;
    type.parseLiteral = implementation.parseLiteral;
    if (type.description == null) type.description = implementation.description;
  }
}
