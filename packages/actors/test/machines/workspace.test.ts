import { describe, expect, it } from "vitest";
import type { AtelierEvent, WorkspaceContext, WorkspaceEffect } from "@atelier/actors/machines";
import { given } from "../gwt.ts";

const E = "workspace";
const config = { idleTimeoutMs: 100, hibernateAfterMs: 1000, lifetimeMs: 10_000, maxLifetimeMs: 25_000 };
const ev = (type: string, payload: Record<string, unknown>) => ({ type, payload }) as AtelierEvent;
const created = ev("workspace.created", { at: 0, workspaceId: "ws_1", name: "demo", config });
const activated = ev("workspace.activated", { at: 10 });
const touched = (at: number) => ev("workspace.touched", { at, reason: "prompt" });
const idleT = (at: number) => ev("workspace.idle_timeout", { at });
const hibT = (at: number) => ev("workspace.hibernate_timeout", { at });
const hibernated = ev("workspace.hibernated", { at: 2000, snapshotRef: "snap/1", seq: 7 });
const resumeReq = ev("workspace.resume_requested", { at: 3000, reason: "prompt" });
const resumed = ev("workspace.resumed", { at: 3100, snapshotRef: "snap/1" });
const failed = ev("workspace.failed", { at: 50, message: "disk" });
const running = [created, activated];
const idle = [...running, idleT(110)];
const effects = (e: readonly { type: string }[]) => (e as WorkspaceEffect[]).map((x) => x.type);

describe("workspace machine", () => {
  it("uncreated → creating → active; activation arms idle, lifetime and maximum deadlines", () => {
    given(E).when(created).moves("creating");
    const t = given(E, created).when(activated).moves("active");
    expect(t.ctx<WorkspaceContext>()).toMatchObject({ idleDeadline: 110, lifetimeDeadline: 10_010, maxDeadline: 25_010 });
    given(E).when(activated).refused();
  });
  it("touch while active pushes the idle deadline back", () => {
    expect(given(E, ...running).when(touched(50)).moves("active").ctx<WorkspaceContext>().idleDeadline).toBe(150);
  });
  it("active → idle when the idle timer fires on time, not before", () => {
    given(E, ...running).when(idleT(109)).refused();
    const t = given(E, ...running).when(idleT(110)).moves("idle");
    expect(t.ctx<WorkspaceContext>()).toMatchObject({ idleDeadline: null, hibernateDeadline: 1110 });
  });
  it("idle → active on activity", () => {
    given(E, ...idle).when(touched(200)).moves("active");
  });
  it("idle → hibernating when the hibernate timer fires, asking the runtime to hibernate", () => {
    given(E, ...idle).when(hibT(1000)).refused();
    const t = given(E, ...idle).when(hibT(1110)).moves("hibernating");
    expect(effects(t.effects)).toEqual(["workspace.hibernate"]);
    expect(t.ctx<WorkspaceContext>().lifetimeDeadline).toBeNull();
  });
  it("active|idle → hibernating on request or on lifetime expiry", () => {
    given(E, ...running).when(ev("workspace.hibernate_requested", { at: 20, by: "ana" })).moves("hibernating");
    given(E, ...idle).when(ev("workspace.hibernate_requested", { at: 120, by: "ana" })).moves("hibernating");
    given(E, ...running).when(ev("workspace.lifetime_expired", { at: 10_009 })).refused();
    given(E, ...running).when(ev("workspace.lifetime_expired", { at: 10_010 })).moves("hibernating");
  });
  it("renew extends the lifetime, capped by the maximum", () => {
    expect(given(E, ...running).when(ev("workspace.renewed", { at: 5000 })).moves("active").ctx<WorkspaceContext>().lifetimeDeadline).toBe(15_000);
    expect(given(E, ...running).when(ev("workspace.renewed", { at: 20_000 })).moves("active").ctx<WorkspaceContext>().lifetimeDeadline).toBe(25_010);
  });
  it("hibernating → hibernated → resuming → active with a fresh lifetime", () => {
    const h = [...idle, hibT(1110)];
    given(E, ...h).when(hibernated).moves("hibernated");
    const r = given(E, ...h, hibernated).when(resumeReq).moves("resuming");
    expect(effects(r.effects)).toEqual(["workspace.resume"]);
    const t = given(E, ...h, hibernated, resumeReq).when(resumed).moves("active");
    expect(t.ctx<WorkspaceContext>()).toMatchObject({ lifetimeDeadline: 13_100, maxDeadline: 28_100, snapshotRef: "snap/1" });
    given(E, ...h).when(touched(1200)).refused();
  });
  it("active|idle|hibernated|error → terminating → terminated (final); the maximum lifetime terminates", () => {
    const t = given(E, ...running).when(ev("workspace.terminate_requested", { at: 20, by: "ana" })).moves("terminating");
    expect(effects(t.effects)).toEqual(["workspace.terminate"]);
    given(E, ...idle).when(ev("workspace.terminate_requested", { at: 200, by: "ana" })).moves("terminating");
    given(E, ...running).when(ev("workspace.max_lifetime_reached", { at: 25_010 })).moves("terminating");
    given(E, ...running, ev("workspace.terminate_requested", { at: 20, by: "ana" })).when(ev("workspace.terminated", { at: 30 })).moves("terminated");
    const ended = ev("workspace.terminate_requested", { at: 2500, by: "ana" });
    expect(effects(given(E, ...idle, hibT(1110), hibernated).when(ended).moves("terminating").effects)).toEqual(["workspace.terminate"]);
    given(E, ...running, failed).when(ended).moves("terminating");
    // Not mid-transition: the hibernation, resume or teardown under way finishes first.
    given(E, ...idle, hibT(1110)).when(ended).refused();
    given(E, ...idle, hibT(1110), hibernated, resumeReq).when(ended).refused();
    given(E, ...running, ev("workspace.terminate_requested", { at: 20, by: "ana" })).when(ended).refused();
  });
  it("any state → error on failure; error → active on restart", () => {
    given(E, created).when(failed).moves("error");
    given(E, ...running).when(failed).moves("error");
    given(E, ...idle, hibT(1110)).when(failed).moves("error");
    given(E, ...idle, hibT(1110), hibernated, resumeReq).when(failed).moves("error");
    given(E, ...idle).when(failed).moves("error");
    given(E, ...idle, hibT(1110), hibernated).when(failed).moves("error");
    const terminating = [...running, ev("workspace.terminate_requested", { at: 20, by: "ana" })];
    given(E, ...terminating).when(failed).moves("error");
    given(E, ...terminating, ev("workspace.terminated", { at: 30 })).when(failed).refused();
    const t = given(E, ...running, failed).when(ev("workspace.restarted", { at: 60, by: "ana" })).moves("active");
    expect(t.ctx<WorkspaceContext>()).toMatchObject({ lastError: null, idleDeadline: 160 });
    given(E).when(failed).refused();
  });
});
