// Ready-made experiments: each a full config (on top of the defaults, so nothing of the previous run
// leaks in), a speed, and an explanation (i18n keys sc.<id>.title / sc.<id>.text).

const ALL_FEATURES = ["x1", "x2", "x1^2", "x2^2", "x1*x2", "sin(x1)", "sin(x2)"];

/** The default config, every field given (the server's defaults of docs/api.md for the circle data). */
export const BASE = Object.freeze({
  dataset: { name: "circle", samples: 500, noise: 0, train_fraction: 0.5, seed: 0, classes: 3 },
  features: ["x1", "x2"],
  hidden: [4, 2],
  activation: "tanh",
  output_activation: "sigmoid",
  loss: "cross_entropy",
  learning_rate: 0.03,
  batch_size: 10,
  optimizer: "sgd",
  momentum: 0.9,
  regularization: "none",
  reg_rate: 0,
  init: "xavier",
  init_scale: 0.12,
  seed: 0,
});

/**
 * @typedef {{id: string, config: object, pace: string}} Scenario
 * @type {Scenario[]}
 */
export const SCENARIOS = [
  { id: "xor", pace: "e1", config: { dataset: { name: "xor" }, hidden: [] } },
  { id: "symmetry", pace: "e1", config: { hidden: [4, 4], activation: "sigmoid", init: "zeros" } },
  { id: "vanishing", pace: "e1", config: { hidden: [8, 8, 8, 8, 8, 8], activation: "sigmoid" } },
  {
    id: "diverge",
    pace: "s1",
    config: { dataset: { name: "plane" }, hidden: [4], output_activation: "linear", loss: "mse", learning_rate: 3 },
  },
  {
    id: "overfit",
    pace: "e1",
    config: {
      dataset: { name: "xor", noise: 0.3, samples: 200, train_fraction: 0.3 },
      hidden: [16, 16, 16],
      activation: "relu",
      regularization: "l2",
      reg_rate: 0.3,
    },
  },
  { id: "spiral", pace: "e1", config: { dataset: { name: "spiral" }, features: ALL_FEATURES, hidden: [8, 8] } },
];

/**
 * A scenario's whole config: the defaults, overridden by the scenario's fields (dataset merged).
 * @param {Scenario} sc
 */
export function scenarioConfig(sc) {
  const c = sc.config;
  return { ...BASE, ...c, dataset: { ...BASE.dataset, ...(c.dataset || {}) } };
}
