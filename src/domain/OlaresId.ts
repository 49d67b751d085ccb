/** The olaresId (`local@domain`) and the Olares service URLs derived from it. */
import * as Either from "effect/Either"
import * as Schema from "effect/Schema"
import { InvalidOlaresId } from "../errors.js"

/** A parsed, validated olaresId such as `alice@olares.com`. */
export const OlaresId = Schema.String.pipe(Schema.brand("OlaresId"))
/** A parsed, validated olaresId such as `alice@olares.com`. */
export type OlaresId = typeof OlaresId.Type

/** The domain a bare `alice` belongs to. */
export const DEFAULT_DOMAIN = "olares.com"

const LABEL = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/

const checkHostPart = (part: string, what: "local part" | "domain"): string | undefined => {
  if (part === "") return `the ${what} is empty`
  if (/\s/.test(part)) return `the ${what} contains white space`
  for (const label of part.split(".")) {
    if (label === "") return `the ${what} has an empty label`
    if (!LABEL.test(label)) {
      return `the ${what} ${
        JSON.stringify(part)
      } holds characters a host name cannot (letters, digits, '-' and '.' only)`
    }
  }
  return undefined
}

/** Parses user input: trims, defaults a bare name to `@olares.com`, rejects what cannot form a host name. */
export const parseOlaresId = (raw: string): Either.Either<OlaresId, InvalidOlaresId> => {
  const input = raw.trim()
  const fail = (reason: string) => Either.left(new InvalidOlaresId({ input: raw, reason }))
  if (input === "") return fail("it is empty")
  const parts = input.split("@")
  if (parts.length > 2) return fail("it contains more than one '@'")
  const [local, domain = DEFAULT_DOMAIN] = parts as [string, string?]
  const bad = checkHostPart(local, "local part") ?? checkHostPart(domain, "domain")
  if (bad !== undefined) return fail(bad)
  return Either.right(OlaresId.make(`${local}@${domain}`))
}

/** `alice` of `alice@olares.com`. */
export const localPart = (id: OlaresId): string => id.slice(0, id.indexOf("@"))

/** `alice.olares.com` of `alice@olares.com`. */
export const terminusName = (id: OlaresId): string => id.replace("@", ".")

/** Profile fields that shape URLs. */
export interface UrlOptions {
  readonly localUrlPrefix?: string | undefined
  readonly authUrlOverride?: string | undefined
}

/** The path a service's API lives under: the vault's is `/server` (reference `VaultURL`); the others none. */
export const servicePath = (service: string): string => (service === "vault" ? "/server" : "")

/** `https://<service>.<prefix><terminus>` with no trailing slash (plus the vault's `/server`). */
export const serviceUrl = (service: string, id: OlaresId, opts: UrlOptions = {}): string =>
  `https://${service}.${opts.localUrlPrefix ?? ""}${terminusName(id)}${servicePath(service)}`

/** The vault target: `https://vault.<prefix><terminus>/server`. */
export const vaultUrl = (id: OlaresId, opts: UrlOptions = {}): string => serviceUrl("vault", id, opts)

/** The auth (Authelia) base: the override verbatim, else `https://auth.<prefix><terminus>`. */
export const authUrl = (id: OlaresId, opts: UrlOptions = {}): string =>
  opts.authUrlOverride !== undefined && opts.authUrlOverride !== ""
    ? opts.authUrlOverride.replace(/\/+$/, "")
    : serviceUrl("auth", id, opts)

/** The desktop base every profile-level GET (user-info, olares-info) goes to. */
export const desktopUrl = (id: OlaresId, opts: UrlOptions = {}): string => serviceUrl("desktop", id, opts)

/** The `targetURL` sent in login bodies: always derived with an empty prefix (a wire quirk). */
export const loginTargetUrl = (id: OlaresId): string => `https://desktop.${terminusName(id)}`

// Lock paths live in Paths.ts with the other paths; re-exported for the old import path.
