export { asksForPin } from './prompt.ts';
/** The USSD simulator's programmatic API: used by `npm run ussd:sim`, the tests and the `ussd` bench scenario. */
export {
  DEFAULT_SECRET,
  fetchTransport,
  type Injectable,
  injectTransport,
  newSessionId,
  UssdSimulator,
  type UssdSimulatorOptions,
  type UssdTransport,
} from './simulator.ts';
export {
  decodeReply,
  encodeStep,
  isSimGateway,
  SIM_GATEWAYS,
  type SimGateway,
  type SimScreen,
  type StepFacts,
  WireError,
  type WireRequest,
  type WireResponse,
} from './wire.ts';
