/**
 * Where a profile's token may travel: the ONE rule `olares-cli api` and the library's `HttpAuth`
 * share. A request URL is first resolved by WHATWG rules against the profile's base (so `//evil/x`,
 * `/\evil/x` and `/\t/evil/x` become the foreign URLs they really are), then its origin is checked
 * against the profile's own hosts:
 *
 * - `https://<anything>.<prefix><local>.<domain>` on the default port (the derived service hosts);
 * - the exact origin of the profile's `--auth-url-override` (its scheme and port, so an `http://`
 *   override of a development server keeps working);
 * - origins the program added on purpose through `TokenScope` (never by default).
 *
 * No userinfo, no other scheme, no other port, no cleartext to a derived host.
 */
import * as Context from "effect/Context"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import { ForeignUrl } from "../errors.js"
import { authUrl, desktopUrl, type OlaresId, serviceUrl, terminusName } from "./OlaresId.js"
import type { Profile } from "./ProfileConfig.js"

/** What a program may widen: more origins that may receive the token (`https://proxy.example:8443`). */
export interface TokenScopeShape {
  /** Origins (scheme, host and port; a path is ignored) that may also receive the profile's token. */
  readonly extraOrigins: ReadonlyArray<string>
}

/**
 * Widens where `HttpAuth` may send the token, for a program that really means it. Read per request
 * from the caller's context: `Effect.provideService(program, TokenScope, { extraOrigins: [...] })`.
 * The default adds nothing.
 */
export class TokenScope extends Context.Reference<TokenScope>()("olares-cli/TokenScope", {
  defaultValue: (): TokenScopeShape => ({ extraOrigins: [] })
}) {}

const originOf = (url: string): Option.Option<string> => {
  try {
    const origin = new URL(url).origin
    return origin === "null" ? Option.none() : Option.some(origin)
  } catch {
    return Option.none()
  }
}

const hasOverride = (p: Profile): p is Profile & { readonly authUrlOverride: string } =>
  p.authUrlOverride !== undefined && p.authUrlOverride !== ""

/** `baseUrl` of a profile: the override's origin when set (loopback tests), else the desktop host. */
export const profileBaseUrl = (profile: Profile, id: OlaresId): string =>
  hasOverride(profile)
    ? Option.getOrElse(originOf(profile.authUrlOverride), () => authUrl(id, profile))
    : desktopUrl(id, { localUrlPrefix: profile.localUrlPrefix })

/** `serviceUrl` of a profile: with an override every service is the override's origin. */
export const profileServiceUrl = (profile: Profile, id: OlaresId) => (service: string): string =>
  hasOverride(profile)
    ? Option.getOrElse(originOf(profile.authUrlOverride), () => authUrl(id, profile))
    : serviceUrl(service, id, { localUrlPrefix: profile.localUrlPrefix })

/** `<prefix><local>.<domain>`: every derived service host is a subdomain of it. */
export const profileZone = (profile: Profile, id: OlaresId): string =>
  `${profile.localUrlPrefix ?? ""}${terminusName(id)}`.toLowerCase()

// What an error may show of a caller's text: no control characters (C0, DEL, C1), at most 100 chars.
const cleanText = (raw: string): string => {
  const clean = raw.replace(/[\u0000-\u001f\u007f-\u009f]/g, "?")
  return JSON.stringify(clean.length > 100 ? `${clean.slice(0, 100)}...` : clean)
}

/**
 * Resolves `raw` (a path or an absolute URL) against the profile's base and returns the absolute
 * URL the token may be sent to, or `ForeignUrl` saying why not. Nothing is sent either way.
 */
export const scopeUrl = (
  profile: Profile,
  id: OlaresId,
  raw: string,
  scope: TokenScopeShape = { extraOrigins: [] }
): Either.Either<string, ForeignUrl> => {
  const zone = profileZone(profile, id)
  const override = hasOverride(profile) ? originOf(profile.authUrlOverride) : Option.none<string>()
  const extra = scope.extraOrigins.flatMap((o) => Option.toArray(originOf(o)))
  const allowed = [`https://*.${zone}`, ...Option.toArray(override), ...extra].join(", ")
  const refuse = (target: string, reason: string) =>
    Either.left(new ForeignUrl({ olaresId: id, target, reason, allowed }))
  let url: URL
  try {
    url = new URL(raw, `${profileBaseUrl(profile, id)}/`)
  } catch {
    return refuse(cleanText(raw), "it is neither a path nor a URL")
  }
  const where = `${url.protocol}//${url.host}`
  if (url.protocol !== "https:" && url.protocol !== "http:") return refuse(where, "only http(s) URLs carry the token")
  if (url.username !== "" || url.password !== "") return refuse(where, "the URL carries credentials of its own")
  if (Option.contains(override, url.origin) || extra.includes(url.origin)) return Either.right(url.href)
  if (url.hostname.endsWith(`.${zone}`)) {
    if (url.protocol !== "https:") {
      return refuse(where, "a profile host is reached over https only, never cleartext http")
    }
    if (url.port !== "") return refuse(where, "a profile host is reached on the default https port only")
    return Either.right(url.href)
  }
  return refuse(where, "it is not one of the profile's hosts")
}
