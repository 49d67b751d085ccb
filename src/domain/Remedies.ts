/**
 * The commands and instructions our messages send people to, each written once (plain strings, no
 * imports: errors.ts, the commands and the framework-free quick path all share them).
 */

/** The way back for a local profile whose token is missing or dead. */
export const loginCommand = (id: string): string => `olares-cli profile login --olares-id ${id}`

/** Drops a profile and its token (the way past "already authenticated"). */
export const removeCommand = (id: string): string => `olares-cli profile remove ${id}`

/** The two ways to add a profile, as the empty `profile list` and `NoProfile` say them. */
export const ADD_PROFILE_COMMANDS =
  "`olares-cli profile login --olares-id <id>` or `olares-cli profile import --olares-id <id> --refresh-token <tok>`"

/** Go's `%q` of an application name (the names are plain ASCII in practice; JSON quoting agrees there). */
export const quoteApp = (app: string): string => JSON.stringify(app)

/** The reference's tail of every platform-issued credential failure. */
export const managedRemedy = (app: string): string =>
  app === ""
    ? "this credential is issued by the platform; reinstall or repair the application that requested it to have it re-issued"
    : `this credential is issued by the platform for application ${
      quoteApp(app)
    }; reinstall or repair that application to have it re-issued`

/** The reference's action for a platform-issued credential failure (prose: no command can fix it). */
export const managedRecovery = (app: string): string =>
  app === ""
    ? "reinstall or repair the application that requested this platform-issued credential"
    : `reinstall or repair application ${quoteApp(app)}, which requested this platform-issued credential`
