// Package reliability holds wbo-deploy's whole-stack fault-injection tests
// (`make reliability`): crashes at every mutating call of up, of a
// configuration-change up and of destroy, in both ways a real crash happens
// (with the state in S3: at every state write and lock call, and at a fixed
// stride of the other calls);
// throttling storms, 5xx and latency; lost responses; interrupts; damaged
// state files; concurrent runs. Each case ends by checking the simulated
// account against the intended stack: no duplicate, no leaked resource, and
// a state file that agrees with the account. The tests print the figures the
// README publishes.
package reliability
