import postgres from 'postgres';

export function isUniqueViolation(error: unknown, constraint: string): boolean {
  return error instanceof postgres.PostgresError && error.code === '23505' && error.constraint_name === constraint;
}

export function isCheckViolation(error: unknown, constraint: string): boolean {
  return error instanceof postgres.PostgresError && error.code === '23514' && error.constraint_name === constraint;
}
