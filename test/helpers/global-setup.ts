// Jest globalSetup: what the suites need installed before any of them runs.
import { ensureDf4App } from "./df4-app";

export default function globalSetup(): void {
  ensureDf4App();
}
