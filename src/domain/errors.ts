export interface FieldError {
  path: string;
  message: string;
}

/** Input that breaks a rule: answered with 400 and the offending fields. */
export class ValidationError extends Error {
  constructor(
    message: string,
    readonly errors: FieldError[] = [],
  ) {
    super(message);
  }
}

export class NotFoundError extends Error {}

/** The request is well-formed but the current state forbids it: 409, with a machine-readable `code` where the contract names one. */
export class ConflictError extends Error {
  constructor(
    message: string,
    readonly code?: string,
  ) {
    super(message);
  }
}
