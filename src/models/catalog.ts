/**
 * Every model, registered by name. One line per model; the name is the CLI's model argument.
 */
import { registerModel } from './registry.js';

import { LinearRegression } from './linear/linear-regression.js';
import { LogisticRegression } from './linear/logistic-regression.js';
import { LinearSVM } from './linear/linear-svm.js';
import { KMeans } from './kmeans/kmeans.js';
import { PCA } from './pca/pca.js';
import { MLP } from './neural/mlp.js';
import { CNN } from './neural/cnn.js';
import { RNN } from './neural/rnn.js';

registerModel({ name: 'linear-regression', kind: 'regressor', summary: 'least squares / ridge: exact normal equations (one all-reduce) or SGD', create: (params) => new LinearRegression(params) });
registerModel({ name: 'logistic-regression', kind: 'classifier', summary: 'binary or softmax logistic regression: L-BFGS on all-reduced gradients, or SGD', create: (params) => new LogisticRegression(params) });
registerModel({ name: 'linear-svm', kind: 'classifier', summary: 'linear SVM (hinge loss) by mini-batch Pegasos SGD, one-vs-rest for >2 classes', create: (params) => new LinearSVM(params) });
registerModel({ name: 'kmeans', kind: 'clusterer', summary: 'k-means (Lloyd) with k-means++ / k-means|| / random init: per-cluster sums all-reduced each iteration', create: (params) => new KMeans(params) });
registerModel({ name: 'pca', kind: 'decomposition', summary: 'principal component analysis: all-reduced covariance (full) or randomized subspace iteration', create: (params) => new PCA(params) });
registerModel({ name: 'mlp', kind: 'classifier', summary: 'multi-layer perceptron (dense + ReLU/tanh/sigmoid, dropout), Adam or SGD with momentum through any gradient strategy', create: (params) => new MLP(params) });
registerModel({ name: 'cnn', kind: 'classifier', summary: 'convolutional network (conv–pool ×2, dense; im2col + gemm) for images one per row, Adam or SGD', create: (params) => new CNN(params) });
registerModel({ name: 'rnn', kind: 'classifier', summary: 'recurrent sequence classifier: simple RNN, LSTM or GRU with backpropagation through time', create: (params) => new RNN(params) });
