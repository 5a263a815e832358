import type { atelierCatalogue } from "@atelier/actors/machines";
import type { ProjectorMap } from "./registry.ts";

/** The projector map of the actors' catalogue; each concept's file fills in its part. */
export type AtelierProjectors = ProjectorMap<typeof atelierCatalogue>;
export type Part = Partial<AtelierProjectors>;
