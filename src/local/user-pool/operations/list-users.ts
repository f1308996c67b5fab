import { parseUserFilter } from '../filter.js';
import { optionalInteger, optionalString, optionalStringList } from '../input.js';
import { checkLimit, paginate } from '../pagination.js';
import { requirePool, type Operation } from '../pool.js';
import { userType } from './admin-users.js';

export const listUsers: Operation = async (pool, input) => {
  requirePool(pool, input);
  const filter = parseUserFilter(optionalString(input, 'Filter'));
  const attributesToGet = optionalStringList(input, 'AttributesToGet');
  const limit = checkLimit(optionalInteger(input, 'Limit'), 60, 60);
  const page = paginate(
    pool.store.allUsers().filter(filter),
    (user) => user.username.toLowerCase(),
    limit,
    optionalString(input, 'PaginationToken'),
  );
  return {
    Users: page.items.map((user) => userType(user, attributesToGet)),
    ...(page.next !== undefined && { PaginationToken: page.next }),
  };
};
