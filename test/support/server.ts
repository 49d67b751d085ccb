/**
 * The loopback Olares test server now ships in the package (`olares-cli/testing`); the repo's tests
 * use the same module, with every secret it issues fed to the global leak scan.
 */
import { onSecret } from "../../src/testing/server.js"
import { recordSecret } from "./leaks.js"

onSecret(recordSecret)

export * from "../../src/testing/server.js"
