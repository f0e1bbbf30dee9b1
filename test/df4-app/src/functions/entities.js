// Entities: a function-style Counter, a class-based Account, and orchestrations that call, signal
// and lock them through the orchestration context.
const df = require("durable-functions");
const { TaskEntity } = require("@microsoft/durabletask-js");

df.app.entity("Counter", (context) => {
  const value = context.df.getState(() => 0);
  switch (context.df.operationName) {
    case "add": context.df.setState(value + Number(context.df.getInput() ?? 1)); break;
    case "reset": context.df.setState(0); break;
    case "get": context.df.return(value); break;
    case "fail": throw new Error(`Counter refused: ${context.df.getInput()}`);
    case "delete": context.df.destructOnExit(); break;
  }
});

class Account extends TaskEntity {
  initializeState() { return 0; }
  deposit(amount) { this.state += amount; return this.state; }
  withdraw(amount) {
    if (amount > this.state) throw new Error(`insufficient funds: balance ${this.state}, asked ${amount}`);
    this.state -= amount;
    return this.state;
  }
  balance() { return this.state; }
}
df.app.entity("Account", () => new Account());

df.app.orchestration("CounterWorkflow", function* (context) {
  const id = new df.EntityId("Counter", context.df.getInput());
  context.df.signalEntity(id, "add", 5);
  yield context.df.callEntity(id, "add", 2);
  return yield context.df.callEntity(id, "get");
});

// An entity operation's error, caught by the orchestration and rethrown with more words.
df.app.orchestration("EntityErrorWorkflow", function* (context) {
  try {
    yield context.df.callEntity(new df.EntityId("Counter", "err"), "fail", "no way");
    return "not reached";
  } catch (err) {
    throw new Error(`caught from the entity: ${err.message}`);
  }
});

// Moves input.amount between two accounts holding both locks (a core-native orchestrator: the
// classic context has no lock; context.entities does).
df.app.orchestration("Transfer", async function* (ctx, input) {
  const from = new df.EntityId("Account", input.from);
  const to = new df.EntityId("Account", input.to);
  const lock = yield ctx.entities.lockEntities(from, to);
  try {
    const inLock = ctx.entities.isInCriticalSection().inSection;
    yield ctx.entities.callEntity(from, "withdraw", input.amount);
    yield ctx.entities.callEntity(to, "deposit", input.amount);
    return { inLock, from: yield ctx.entities.callEntity(from, "balance"), to: yield ctx.entities.callEntity(to, "balance") };
  } finally {
    lock.release();
  }
});
