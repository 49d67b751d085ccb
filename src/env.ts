/** Reading boolean-ish environment variables the same way everywhere. */

/** True for any value but unset, empty, `0` and `false` (e.g. `CI=1`, `OLARES_CLI_NO_INPUT=yes`). */
export const envFlag = (v: string | undefined): boolean => v !== undefined && v !== "" && v !== "0" && v !== "false"
