/**
 * The dated versions of the API (docs/api.md, "Versions and changelog"). A client names the version it was
 * written against in the `Countersign-Version` request header; a request without one is answered under the
 * current version. A version is added here, newest last, only together with its changelog entry.
 */

/** Every version the platform answers under, oldest first. */
export const apiVersions = Object.freeze(['2026-12-01'] as const);

/** A version the platform knows. */
export type ApiVersion = (typeof apiVersions)[number];

/** The version of a request that names none: the newest. */
export const currentApiVersion: ApiVersion = apiVersions[apiVersions.length - 1] as ApiVersion;

/** Whether `value` names a version the platform answers under (exact text: `2026-12-01`). */
export function isApiVersion(value: string): value is ApiVersion {
  return (apiVersions as readonly string[]).includes(value);
}
