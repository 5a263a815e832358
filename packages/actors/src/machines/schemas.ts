import { Schema } from "effect";

/** Shared payload building blocks, so every event spells ids and times the same way. */
export const Id = Schema.String.check(Schema.isMinLength(1));
/** Epoch milliseconds from the runtime's Clock (never read inside a machine). */
export const Millis = Schema.Number.check(Schema.isInt(), Schema.isGreaterThanOrEqualTo(0));
export const Count = Schema.Number.check(Schema.isInt(), Schema.isGreaterThanOrEqualTo(0));
export const Positive = Schema.Number.check(Schema.isInt(), Schema.isGreaterThanOrEqualTo(1));
export const Priority = Schema.Number.check(Schema.isInt());
export const Money = Schema.Number.check(Schema.isFinite(), Schema.isGreaterThanOrEqualTo(0));
/** Runner connection generation: starts at 1, +1 per connection of an agent's runner. */
export const Generation = Positive;
