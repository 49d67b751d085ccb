/** The roles a profile caches and how they are shown: plain functions (no Effect), shared by whoami, login and the quick tier. */
import { displayField } from "./Scrub.js"

/** The roles Olares knows; another plain lower-case word (a future role) is accepted too. */
export const KNOWN_ROLES: ReadonlyArray<string> = ["owner", "admin", "normal"]

/** A role that may be cached and shown: a known one, or a plain word (`[a-z][a-z0-9_-]`, at most 32). */
export const isValidRole = (role: string): boolean => KNOWN_ROLES.includes(role) || /^[a-z][a-z0-9_-]{0,31}$/.test(role)

/** `owner` → `Owner`, `admin` → `Admin`, `normal` → `User`, empty → `(unknown)`; a cached value that is not a plain word (old or hand-edited config) → `(invalid)`. */
export const roleLabel = (role: string | undefined): string => {
  if (role === undefined || role === "") return "(unknown)"
  if (role === "owner") return "Owner"
  if (role === "admin") return "Admin"
  if (role === "normal") return "User"
  if (!isValidRole(role)) return "(invalid)"
  return role.charAt(0).toUpperCase() + role.slice(1).toLowerCase()
}

/** A cached role as `-o json` shows it: sanitised and capped whatever config.json holds. */
export const roleForDisplay = (role: string): string => displayField(role, 32)
