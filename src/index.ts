export type {
  Cell,
  Column,
  JsonObject,
  JsonValue,
  StageContext,
  StageFunction,
  StageOutputs,
  StageProgress,
  Table,
  TableData,
  UpstreamStage,
} from './stage-api.ts';
export { defineStage } from './stage-api.ts';
