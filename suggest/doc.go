// Package suggest holds what every reply suggester shares: Validate, the
// conversations.Suggester contract written as code, and Chain, a Suggester
// that asks a model first and falls back to the offline rules when the model
// errs, answers badly or is slower than a budget.
//
// The Service in package conversations asks a conversations.Suggester for
// replies to a customer's last message. Hosts pick the implementation:
//
//   - rules (package suggest/rules), the embedded default: deterministic,
//     offline, well under a millisecond, built from the job's context;
//   - llm (package suggest/llm), when the host configures an OpenAI-compatible
//     model endpoint (OpenAI, Azure OpenAI, Ollama, vLLM);
//   - Chain, to combine the two: the model's answer when it is good and on
//     time, the rules' answer otherwise, so the inbox never waits on a model.
//
// Package suggest/suggesttest is the conformance suite every implementation
// runs, Chain included.
package suggest
