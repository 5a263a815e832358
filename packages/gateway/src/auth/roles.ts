/** Who a bearer token speaks for. */
export type Role = "owner" | "collaborator" | "viewer";
export const roles: readonly Role[] = ["owner", "collaborator", "viewer"];

/** What a request may do; each route names the one it needs. */
export type Permission = "read" | "write" | "manage";

const grants: Record<Role, readonly Permission[]> = {
  owner: ["read", "write", "manage"],
  collaborator: ["read", "write"],
  viewer: ["read"],
};

export const can = (role: Role, permission: Permission): boolean => grants[role].includes(permission);
