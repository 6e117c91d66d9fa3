// Exit codes and the two kinds of failure the command line reports as one line, never as a
// stack trace: a usage error (the operator asked for something malformed) and an operation
// that failed (AWS, the host or the stack said no).

export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;

/** The operator's input is wrong: the message names the argument, what was given and what is expected. */
export class UsageError extends Error {
  readonly exitCode = EXIT_USAGE;
}

/**
 * The operation could not be done. The message, one line, says what happened and what to do
 * next; when the two are given apart (`problem`, `action`), a health check that fails with
 * this error reports them as its finding's summary and action.
 */
export class OpsError extends Error {
  readonly exitCode = EXIT_FAILED;

  constructor(
    readonly problem: string,
    readonly action?: string,
  ) {
    super(action ? `${problem}; ${action}` : problem);
  }
}

interface AwsErrorShape {
  name?: string;
  Code?: string;
  message?: string;
}

const THROTTLING = new Set([
  "ThrottlingException",
  "Throttling",
  "TooManyRequestsException",
  "RequestLimitExceeded",
  "ProvisionedThroughputExceededException",
]);
const ACCESS_DENIED = new Set([
  "AccessDenied",
  "AccessDeniedException",
  "UnauthorizedOperation",
  "UnrecognizedClientException",
]);
const NO_CREDENTIALS = new Set([
  "CredentialsProviderError",
  "ExpiredToken",
  "ExpiredTokenException",
  "InvalidClientTokenId",
]);

/**
 * What an operator can act on, for an error an AWS call threw. `operation` names the call,
 * e.g. `SSM SendCommand`; `instanceId` turns SSM's InvalidInstanceId into a hint about the agent.
 */
function awsFailure(error: unknown, operation: string, instanceId?: string): OpsError {
  const { name = "Error", message = String(error) } = (error ?? {}) as AwsErrorShape;
  if (THROTTLING.has(name))
    return new OpsError(`AWS throttled ${operation} (${name})`, "wait a minute and run the command again");
  if (ACCESS_DENIED.has(name))
    return new OpsError(
      `access denied to ${operation} (${name}): the AWS identity in use lacks that permission`,
      "see Operator permissions in docs/operations.md",
    );
  if (NO_CREDENTIALS.has(name))
    return new OpsError(
      `no usable AWS credentials for ${operation} (${name})`,
      "set AWS_PROFILE or refresh your session",
    );
  if (name === "InvalidInstanceId" || name === "InvalidInstanceID.NotFound")
    return new OpsError(
      `instance ${instanceId ?? "(unknown)"} is not managed by SSM (${name})`,
      "check that it is running, its SSM agent is online and its role allows SSM",
    );
  return new OpsError(`${operation} failed (${name}): ${message}`);
}

/** Wraps an AWS call so its failure becomes an OpsError saying what failed and what to do. */
export async function awsCall<T>(operation: string, call: () => Promise<T>, instanceId?: string): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (error instanceof UsageError || error instanceof OpsError) throw error;
    throw awsFailure(error, operation, instanceId);
  }
}
