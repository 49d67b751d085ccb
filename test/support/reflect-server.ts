/**
 * A hostile loopback server for the output-scrubbing tests (issue 10, items 3 and 4): it echoes every
 * request it receives (method, URL, every header and cookie, the body) into its error responses and
 * into every field it returns (`message`, `owner_role`, `name`, `osVersion`), wrapped in terminal
 * escape sequences (OSC 52 clipboard write, CSI 2J screen clear, the 8-bit CSI 0x9b, a bidi override,
 * CR/LF). Every token it issues is recorded for the global leak scan, so any output of a CLI run
 * against it that contains one fails the suite.
 */
import { randomBytes } from "node:crypto"
import * as http from "node:http"
import type { AddressInfo } from "node:net"
import { recordSecret } from "./leaks.js"
import { mintJwt } from "./server.js"

/** The escape sequences wrapped around every reflection. */
export const HOSTILE = "\u001b]52;c;b3duZWQ=\u0007\u001b[2J\u009b31m\u202e\r\nINJECTED\u0085\u001bP+q\u001b\\\u007f"

/** How one path answers: `status` with the reflection as plain text, as a JSON envelope, or a 200 with reflected fields. */
export interface ReflectMode {
  readonly status: number
  /** `text`: the raw reflection; `json`: `{"status":"KO","message":<reflection>,"data":{...}}`; `ok`: the normal 200 answer. */
  readonly format: "text" | "json" | "ok"
  /** For `json` on a 200: the `status` field (default `KO`). */
  readonly envelopeStatus?: string
}

/** A running reflecting server. */
export interface ReflectServer {
  readonly url: string
  /** Sets how a path answers (default `ok` for every path). */
  readonly mode: (path: string, mode: ReflectMode) => void
  readonly reset: () => void
  /** Every refresh token it issued (recorded as secrets). */
  readonly issuedRefresh: () => ReadonlyArray<string>
  /** A grant as if from a login: a live JWT and a refresh token (both recorded). */
  readonly grant: (ttlSeconds?: number) => Promise<{ readonly accessToken: string; readonly refreshToken: string }>
  readonly close: () => Promise<void>
}

const readBody = (req: http.IncomingMessage): Promise<string> =>
  new Promise((resolve) => {
    const chunks: Array<Buffer> = []
    req.on("data", (c: Buffer) => chunks.push(c))
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")))
    req.on("error", () => resolve(""))
  })

/** Starts it on 127.0.0.1. */
export const startReflectServer = async (): Promise<ReflectServer> => {
  const modes = new Map<string, ReflectMode>()
  const refresh: Array<string> = []
  const newRefresh = () => {
    const rt = `rt-${randomBytes(24).toString("base64url")}`
    recordSecret(rt)
    refresh.push(rt)
    return rt
  }
  const grant = async (ttlSeconds = 3600) => ({
    accessToken: await mintJwt({ ttl: ttlSeconds }),
    refreshToken: newRefresh()
  })
  const reflection = (req: http.IncomingMessage, body: string) =>
    `${HOSTILE}${req.method} ${req.url} ${JSON.stringify(req.headers)} cookie=${
      req.headers.cookie ?? ""
    } body=${body}${HOSTILE}`

  const send = (res: http.ServerResponse, status: number, body: string, type: string) => {
    res.writeHead(status, { "content-type": type, "content-length": Buffer.byteLength(body) })
    res.end(body)
  }

  const normal = async (path: string, echo: string): Promise<unknown> => {
    switch (path) {
      case "/api/firstfactor":
      case "/api/secondfactor/totp":
      case "/api/refresh": {
        const g = await grant()
        return {
          status: "OK",
          message: echo,
          data: { access_token: g.accessToken, refresh_token: g.refreshToken, session_id: `sid-${echo}`, fa2: false }
        }
      }
      case "/api/backend/v1/user-info":
        return { code: 0, message: echo, data: { name: echo, owner_role: echo } }
      case "/api/olares-info":
        return { code: 0, message: echo, data: { osVersion: echo } }
      default:
        return { echo }
    }
  }

  const server = http.createServer((req, res) => {
    res.on("error", () => {})
    void readBody(req).then(async (body) => {
      const path = new URL(req.url ?? "/", "http://127.0.0.1").pathname
      const echo = reflection(req, body)
      const mode = modes.get(path) ?? { status: 200, format: "ok" }
      if (mode.format === "text") return send(res, mode.status, echo, "text/plain")
      if (mode.format === "json") {
        return send(
          res,
          mode.status,
          JSON.stringify({ status: mode.envelopeStatus ?? "KO", message: echo, code: mode.status, data: { echo } }),
          "application/json"
        )
      }
      return send(res, mode.status, JSON.stringify(await normal(path, echo)), "application/json")
    })
  })
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  const port = (server.address() as AddressInfo).port
  return {
    url: `http://127.0.0.1:${port}`,
    mode: (path, mode) => modes.set(path, mode),
    reset: () => modes.clear(),
    issuedRefresh: () => refresh,
    grant,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      })
  }
}
