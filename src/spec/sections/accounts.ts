/** `accounts:` groups, users (gid defaults to the uid, home to /home/NAME), run-as. */
import { isScalar } from "yaml";
import { absPath, int, list, MAX_ID, mapOf, type SpecDoc, str, type YamlNode } from "../check.ts";
import type { GroupSpec, SpecFragment, UserSpec } from "../types.ts";

const ACCOUNT_NAME = /^[a-z_][a-z0-9_-]*$/;

export function parseAccounts(
  doc: SpecDoc,
  node: YamlNode,
  field: string,
): NonNullable<SpecFragment["accounts"]> {
  const accounts: NonNullable<SpecFragment["accounts"]> = {};
  mapOf(doc, node, field, {
    groups: (value, at) => {
      accounts.groups = list(doc, value, at, (item, itemAt) => parseGroup(doc, item, itemAt));
    },
    users: (value, at) => {
      accounts.users = list(doc, value, at, (item, itemAt) => parseUser(doc, item, itemAt));
    },
    "run-as": (value, at) => {
      if (isScalar(value) && typeof value.value === "number")
        accounts.runAs = String(int(doc, value, at, 0, MAX_ID));
      else
        accounts.runAs = str(
          doc,
          value,
          at,
          /^[a-z_][a-z0-9_-]*(:[a-z0-9_-]+)?$|^\d+(:\d+)?$/,
          "a user name or uid",
        );
    },
  });
  return accounts;
}

function parseGroup(doc: SpecDoc, node: YamlNode, field: string): GroupSpec {
  const group: Partial<GroupSpec> = {};
  mapOf(doc, node, field, {
    name: (value, at) => {
      group.name = str(doc, value, at, ACCOUNT_NAME, "a group name");
    },
    gid: (value, at) => {
      group.gid = int(doc, value, at, 0, MAX_ID);
    },
  });
  if (!group.name) doc.fail(node, field, "needs a name");
  if (group.gid === undefined) doc.fail(node, field, "needs a gid");
  return group as GroupSpec;
}

function parseUser(doc: SpecDoc, node: YamlNode, field: string): UserSpec {
  const user: Partial<UserSpec> = {};
  mapOf(doc, node, field, {
    name: (value, at) => {
      user.name = str(doc, value, at, ACCOUNT_NAME, "a user name");
    },
    uid: (value, at) => {
      user.uid = int(doc, value, at, 0, MAX_ID);
    },
    gid: (value, at) => {
      user.gid = int(doc, value, at, 0, MAX_ID);
    },
    home: (value, at) => {
      user.home = absPath(doc, value, at);
    },
    shell: (value, at) => {
      user.shell = absPath(doc, value, at);
    },
  });
  if (!user.name) doc.fail(node, field, "needs a name");
  if (user.uid === undefined) doc.fail(node, field, "needs a uid");
  if (user.gid === undefined) user.gid = user.uid;
  if (!user.home) user.home = `/home/${user.name}`;
  return user as UserSpec;
}
