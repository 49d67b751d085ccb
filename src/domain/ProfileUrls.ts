/**
 * Validation of the two profile fields that shape where credentials go: `--local-url-prefix`
 * (DNS labels spliced into every derived host) and `--auth-url-override` (the auth base). A value
 * that could move the host (`x@evil.example/`), smuggle credentials, a query or a fragment, or
 * that is not a URL at all is refused with a reason, on the command line and when read back from
 * an old or hand-edited config.json.
 */
import { StorageError } from "../errors.js"
import { displayField, redactUrl } from "./Scrub.js"

const LABEL = "[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
const PREFIX = new RegExp(`^(?:${LABEL}\\.)+$`)

/** Why a `localUrlPrefix` is unsafe, or `undefined` when it is fine (empty means none). */
export const localUrlPrefixProblem = (prefix: string): string | undefined => {
  if (prefix === "" || (PREFIX.test(prefix) && prefix.length <= 200)) return undefined
  if (prefix.length > 200) return "it is longer than 200 characters"
  if (/^[A-Za-z0-9.-]+$/.test(prefix) && !prefix.endsWith(".")) {
    return `it must end with '.' (e.g. ${displayField(prefix, 40)}.)`
  }
  return "a prefix is one or more DNS labels (letters, digits and '-', not starting or ending with '-'), each followed by '.', e.g. dev. or a.b."
}

/** Why an `authUrlOverride` is unsafe, or `undefined` when it is an absolute http(s) URL without userinfo, query or fragment. */
export const authUrlOverrideProblem = (url: string): string | undefined => {
  if (url === "") return undefined
  if (/[\s\\]/.test(url) || /[\u0000-\u001f\u007f-\u009f]/.test(url)) {
    return "it contains white space, a control character or a backslash"
  }
  if (!/^https?:\/\//i.test(url)) return "it must be an absolute http:// or https:// URL, e.g. https://auth.example.com"
  let u: URL
  try {
    u = new URL(url)
  } catch {
    return "it is not a valid URL"
  }
  const authority = url.replace(/^https?:\/\//i, "").split(/[/?#]/, 1)[0] ?? ""
  if (u.username !== "" || u.password !== "" || authority.includes("@")) {
    return "it holds credentials (user@ or user:password@); an override never carries them"
  }
  if (u.hostname === "") return "it has no host"
  if (url.includes("?")) return "it has a query (?...); give the auth base only"
  if (url.includes("#")) return "it has a fragment (#...); give the auth base only"
  return undefined
}

/** A value as an error message may quote it: credentials redacted, controls removed, capped. */
export const quoteUrlValue = (value: string): string => JSON.stringify(displayField(redactUrl(value), 200))

/**
 * The first URL field of a stored profile that could send credentials to an unintended host, if
 * any. Lenient where the flags are strict: a config written by an older CLI keeps working unless
 * the value moves the host (`x@evil.example/` as a prefix) or is not an http(s) URL at all;
 * credentials, a query or a fragment inside a stored override are shown redacted, not refused.
 */
export const profileUrlProblem = (
  p: { readonly localUrlPrefix?: string | undefined; readonly authUrlOverride?: string | undefined }
):
  | { readonly field: "localUrlPrefix" | "authUrlOverride"; readonly value: string; readonly reason: string }
  | undefined =>
{
  const prefix = p.localUrlPrefix ?? ""
  if (!/^[A-Za-z0-9.-]{0,253}$/.test(prefix)) {
    return {
      field: "localUrlPrefix",
      value: prefix,
      reason: "it holds characters a host name cannot (only letters, digits, '-' and '.')"
    }
  }
  const override = p.authUrlOverride ?? ""
  if (override === "") return undefined
  const reason = /[\s\\]/.test(override) || /[\u0000-\u001f\u007f-\u009f]/.test(override)
    ? "it contains white space, a control character or a backslash"
    : !/^https?:\/\/[^/?#]/i.test(override) || !URL.canParse(override)
    ? "it is not an absolute http:// or https:// URL"
    : undefined
  return reason === undefined ? undefined : { field: "authUrlOverride", value: override, reason }
}

/**
 * The refusal for a stored profile whose URL fields are unsafe (checked before login, import and
 * every authenticated request): nothing, not a password hash nor a token, goes to such a host.
 */
export const unsafeProfileUrl = (
  p: {
    readonly olaresId: string
    readonly localUrlPrefix?: string | undefined
    readonly authUrlOverride?: string | undefined
  }
): StorageError | undefined => {
  const bad = profileUrlProblem(p)
  if (bad === undefined) return undefined
  const flag = bad.field === "localUrlPrefix" ? "--local-url-prefix" : "--auth-url-override"
  return new StorageError({
    path: "config.json",
    detail: `profile ${p.olaresId} keeps an unsafe ${bad.field} ${
      quoteUrlValue(bad.value)
    }: ${bad.reason}; refusing to send credentials`,
    hint: `run olares-cli profile remove ${p.olaresId} and log in again (with a valid ${flag} if you need one)`
  })
}
