/** Plain HTTP clients, one per TLS policy (a profile may skip certificate verification). */
import type * as HttpClient from "@effect/platform/HttpClient"
import * as Context from "effect/Context"

/** The two clients. */
export interface HttpClientsShape {
  /** The client for a profile: certificate checks off only when the profile says `insecureSkipVerify`. */
  readonly get: (insecureSkipVerify: boolean) => HttpClient.HttpClient
}

/** Plain HTTP clients. */
export class HttpClients extends Context.Tag("olares-cli/HttpClients")<HttpClients, HttpClientsShape>() {}
