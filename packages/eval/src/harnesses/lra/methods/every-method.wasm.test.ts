import { sweepEveryLraMethod } from '../../../testing/lra-method-sweep.js';

sweepEveryLraMethod('wasm');
