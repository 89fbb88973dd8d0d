/**
 * @file Every shared property in one list, for runners that go through them all (the
 * browser test, tests/browser/properties.ts): the first five ops' (`_properties.ts`), then
 * each family's (`_properties_*.ts`), then jit's compositions at each kernel granularity
 * (as the default chooses, as fused kernels, one kernel per op). Deno's test files run
 * each of these on their device for its `numRuns` cases (some on the reference too).
 */
import { COMPOSITION_PROPERTIES } from "./_properties_jit.ts";
import {
  corr2dProperty,
  dropoutProperty,
  l2PenaltyProperty,
  matmulProperty,
  type OpProperty,
  sgdStepProperty,
} from "./_properties.ts";
import {
  ARITHMETIC_PROPERTIES,
  divProperty,
  exactOpsProperty,
  powProperty,
  scaleSquareProperty,
  UNARY_PROPERTIES,
} from "./_properties_elementwise.ts";
import { BROADCAST_PROPERTIES, whereProperty } from "./_properties_broadcast.ts";
import {
  clipLeakyReluProperty,
  exactUnaryProperty,
  floorDivProperty,
  squaredDifferenceProperty,
} from "./_properties_second_wave.ts";
import {
  axesProperty,
  broadcastSumProperty,
  prodProperty,
  sumMeanProperty,
} from "./_properties_reduce.ts";
import { cumprodProperty, cumsumProperty } from "./_properties_scan.ts";
import { sortProperty, topKProperty } from "./_properties_sort.ts";
import { softmaxProperty } from "./_properties_softmax.ts";
import {
  concatProperty,
  matrixLayoutProperty,
  secondWaveLayoutProperty,
  shapeOpsProperty,
} from "./_properties_layout.ts";
import { creationProperty, randomNormalProperty } from "./_properties_creation.ts";
import {
  arangeProperty,
  gatherProperty,
  oneHotProperty,
  scatterAddProperty,
  takeAlongAxisProperty,
} from "./_properties_indexing.ts";
import { adamProperty, sgdProperty } from "./_properties_optimizers.ts";
import { conv2dGradientsProperty, conv2dProperty } from "./_properties_conv2d.ts";
import { poolGradProperty, poolProperty } from "./_properties_pool.ts";
import { batchNormProperty, layerNormProperty } from "./_properties_norm.ts";
import {
  astypeProperty,
  fullTypesProperty,
  integerOpsProperty,
  integerReduceProperty,
} from "./_properties_types.ts";
import { batchedMatmulProperty } from "./_properties_batched.ts";
import { einsumProperty } from "./_properties_einsum.ts";
import { FLOAT16_PROPERTIES } from "./_properties_float16.ts";

/** Every shared property, each op's and jit's at each granularity, in a fixed order. */
export const PROPERTIES: readonly OpProperty<unknown>[] = [
  matmulProperty,
  batchedMatmulProperty,
  einsumProperty,
  l2PenaltyProperty,
  sgdStepProperty,
  dropoutProperty,
  corr2dProperty,
  ...UNARY_PROPERTIES,
  exactOpsProperty,
  divProperty,
  powProperty,
  ...ARITHMETIC_PROPERTIES,
  scaleSquareProperty,
  exactUnaryProperty,
  clipLeakyReluProperty,
  floorDivProperty,
  squaredDifferenceProperty,
  ...BROADCAST_PROPERTIES,
  whereProperty,
  sumMeanProperty,
  broadcastSumProperty,
  axesProperty,
  prodProperty,
  cumsumProperty,
  cumprodProperty,
  sortProperty,
  topKProperty,
  softmaxProperty,
  matrixLayoutProperty,
  shapeOpsProperty,
  concatProperty,
  secondWaveLayoutProperty,
  gatherProperty,
  scatterAddProperty,
  takeAlongAxisProperty,
  oneHotProperty,
  arangeProperty,
  creationProperty,
  randomNormalProperty,
  sgdProperty,
  adamProperty,
  conv2dProperty,
  conv2dGradientsProperty,
  poolProperty,
  poolGradProperty,
  batchNormProperty,
  layerNormProperty,
  astypeProperty,
  fullTypesProperty,
  integerOpsProperty,
  ...FLOAT16_PROPERTIES,
  integerReduceProperty,
  COMPOSITION_PROPERTIES.auto,
  COMPOSITION_PROPERTIES.fused,
  COMPOSITION_PROPERTIES.ops,
];
