/**
 * Why a command was refused. Nothing is written when a command is refused; callers switch on
 * `code` (the HTTP layer maps them to 4xx).
 */
export type RejectionCode =
  | "refused" // the actor's machine does not accept it in its current state
  | "unknown_agent"
  | "queue_full"
  | "stale_runner" // a message from an older runner connection of the agent
  | "not_holder"
  | "unavailable"; // the workspace is closed or its log failed

export class CommandRejected extends Error {
  readonly _tag = "CommandRejected";
  constructor(
    readonly code: RejectionCode,
    message: string,
    readonly entity?: string,
    readonly state?: string,
  ) {
    super(message);
  }
  override get name(): string {
    return `CommandRejected(${this.code})`;
  }
}

export const refused = (entity: string, type: string, state: string) =>
  new CommandRejected("refused", `${entity} in state ${state} does not accept ${type}`, entity, state);
