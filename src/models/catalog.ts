/**
 * Every model, registered by name with its option schema and state schema. The name is the CLI's
 * model argument and the tag in saved files.
 */
import { registerModel } from './registry.js';

import { LINEAR_REGRESSION_OPTIONS, LINEAR_REGRESSION_STATE, LinearRegression } from './linear/linear-regression.js';
import { LOGISTIC_REGRESSION_OPTIONS, LogisticRegression } from './linear/logistic-regression.js';
import { LINEAR_SVM_OPTIONS, LinearSVM } from './linear/linear-svm.js';
import { LINEAR_CLASSIFIER_STATE } from './linear/shared.js';
import { KMEANS_OPTIONS, KMEANS_STATE, KMeans } from './kmeans/kmeans.js';
import { PCA_OPTIONS, PCA_STATE, PCA } from './pca/pca.js';
import { MLP, MLP_OPTIONS } from './neural/mlp.js';
import { CNN, CNN_OPTIONS } from './neural/cnn.js';
import { RNN, RNN_OPTIONS } from './neural/rnn.js';
import { NEURAL_STATE } from './neural/state.js';

registerModel({
  name: 'linear-regression',
  kind: 'regressor',
  summary: 'least squares / ridge: exact normal equations (one all-reduce) or SGD',
  options: LINEAR_REGRESSION_OPTIONS,
  state: LINEAR_REGRESSION_STATE,
  create: (params) => new LinearRegression(params),
});
registerModel({
  name: 'logistic-regression',
  kind: 'classifier',
  summary: 'binary or softmax logistic regression: L-BFGS on all-reduced gradients, or SGD',
  options: LOGISTIC_REGRESSION_OPTIONS,
  state: LINEAR_CLASSIFIER_STATE,
  create: (params) => new LogisticRegression(params),
});
registerModel({
  name: 'linear-svm',
  kind: 'classifier',
  summary: 'linear SVM (hinge loss) by mini-batch Pegasos SGD, one-vs-rest for >2 classes',
  options: LINEAR_SVM_OPTIONS,
  state: LINEAR_CLASSIFIER_STATE,
  create: (params) => new LinearSVM(params),
});
registerModel({
  name: 'kmeans',
  kind: 'clusterer',
  summary: 'k-means (Lloyd) with k-means++ / k-means|| / random init: per-cluster sums all-reduced each iteration',
  options: KMEANS_OPTIONS,
  state: KMEANS_STATE,
  create: (params) => new KMeans(params),
});
registerModel({
  name: 'pca',
  kind: 'decomposition',
  summary: 'principal component analysis: all-reduced covariance (full) or randomized subspace iteration',
  options: PCA_OPTIONS,
  state: PCA_STATE,
  create: (params) => new PCA(params),
});
registerModel({
  name: 'mlp',
  kind: 'classifier',
  summary: 'multi-layer perceptron (dense + ReLU/tanh/sigmoid, dropout), Adam or SGD with momentum through any gradient strategy',
  options: MLP_OPTIONS,
  state: NEURAL_STATE,
  create: (params) => new MLP(params),
});
registerModel({
  name: 'cnn',
  kind: 'classifier',
  summary: 'convolutional network (conv–pool ×2, dense; im2col + gemm) for images one per row, Adam or SGD',
  options: CNN_OPTIONS,
  state: NEURAL_STATE,
  create: (params) => new CNN(params),
});
registerModel({
  name: 'rnn',
  kind: 'classifier',
  summary: 'recurrent sequence classifier: simple RNN, LSTM or GRU with backpropagation through time',
  options: RNN_OPTIONS,
  state: NEURAL_STATE,
  create: (params) => new RNN(params),
});
