import { CognitoError, invalidParameter } from '../errors.js';
import { optionalInteger, optionalString, requiredString, type Input } from '../input.js';
import { checkLimit, paginate } from '../pagination.js';
import { epochSeconds, groupsOf, requirePool, requireUser, type Operation, type Pool } from '../pool.js';
import type { StoredGroup } from '../store.js';

const GROUP_NAME = /^[\p{L}\p{M}\p{S}\p{N}\p{P}]{1,128}$/u;

function groupType(pool: Pool, group: StoredGroup) {
  return {
    GroupName: group.name,
    UserPoolId: pool.config.poolId,
    ...(group.description !== undefined && { Description: group.description }),
    ...(group.roleArn !== undefined && { RoleArn: group.roleArn }),
    ...(group.precedence !== undefined && { Precedence: group.precedence }),
    LastModifiedDate: epochSeconds(group.modifiedAt),
    CreationDate: epochSeconds(group.createdAt),
  };
}

function requireGroup(pool: Pool, input: Input): StoredGroup {
  const name = requiredString(input, 'GroupName');
  const group = pool.store.groups.get(name);
  if (!group) throw new CognitoError('ResourceNotFoundException', 'Group not found.');
  return group;
}

export const createGroup: Operation = async (pool, input) => {
  requirePool(pool, input);
  const name = requiredString(input, 'GroupName');
  if (!GROUP_NAME.test(name)) throw invalidParameter(`Invalid group name: ${name}`);
  if (pool.store.groups.has(name)) {
    throw new CognitoError('GroupExistsException', 'A group with the name already exists.');
  }
  const precedence = optionalInteger(input, 'Precedence');
  if (precedence !== undefined && precedence < 0) throw invalidParameter('Precedence must be 0 or more.');
  const description = optionalString(input, 'Description');
  const roleArn = optionalString(input, 'RoleArn');
  const now = pool.now();
  const group: StoredGroup = {
    name,
    ...(description !== undefined && { description }),
    ...(precedence !== undefined && { precedence }),
    ...(roleArn !== undefined && { roleArn }),
    createdAt: now,
    modifiedAt: now,
  };
  pool.store.groups.set(name, group);
  await pool.store.save();
  return { Group: groupType(pool, group) };
};

export const getGroup: Operation = async (pool, input) => {
  requirePool(pool, input);
  return { Group: groupType(pool, requireGroup(pool, input)) };
};

export const deleteGroup: Operation = async (pool, input) => {
  requirePool(pool, input);
  const group = requireGroup(pool, input);
  pool.store.groups.delete(group.name);
  for (const user of pool.store.allUsers()) user.groups = user.groups.filter((name) => name !== group.name);
  await pool.store.save();
  return {};
};

export const listGroups: Operation = async (pool, input) => {
  requirePool(pool, input);
  const limit = checkLimit(optionalInteger(input, 'Limit'), 60, 60);
  const page = paginate(
    [...pool.store.groups.values()],
    (group) => group.name,
    limit,
    optionalString(input, 'NextToken'),
  );
  return {
    Groups: page.items.map((group) => groupType(pool, group)),
    ...(page.next !== undefined && { NextToken: page.next }),
  };
};

export const adminAddUserToGroup: Operation = async (pool, input) => {
  requirePool(pool, input);
  const user = requireUser(pool, requiredString(input, 'Username'));
  const group = requireGroup(pool, input);
  if (!user.groups.includes(group.name)) {
    user.groups.push(group.name);
    user.modifiedAt = pool.now();
    await pool.store.save();
  }
  return {};
};

export const adminRemoveUserFromGroup: Operation = async (pool, input) => {
  requirePool(pool, input);
  const user = requireUser(pool, requiredString(input, 'Username'));
  const group = requireGroup(pool, input);
  if (user.groups.includes(group.name)) {
    user.groups = user.groups.filter((name) => name !== group.name);
    user.modifiedAt = pool.now();
    await pool.store.save();
  }
  return {};
};

export const adminListGroupsForUser: Operation = async (pool, input) => {
  requirePool(pool, input);
  const user = requireUser(pool, requiredString(input, 'Username'));
  const limit = checkLimit(optionalInteger(input, 'Limit'), 60, 60);
  // Paged in name order; the precedence order is what tokens use.
  const page = paginate(
    groupsOf(pool, user),
    (group) => group.name,
    limit,
    optionalString(input, 'NextToken'),
  );
  return {
    Groups: page.items.map((group) => groupType(pool, group)),
    ...(page.next !== undefined && { NextToken: page.next }),
  };
};
