// Decides when each recipient group is released. For now one group, held for the sender's hold
// time; the policy engine replaces this step with rule-driven groups (internal first, …).
export interface PlannedGroup {
  name: string;
  releaseAt: number;
  recipients: string[];
}

export interface PlanInput {
  now: number;
  holdMinutes: number;
  recipients: string[];
}

export function planDelivery(input: PlanInput): PlannedGroup[] {
  return [
    {
      name: "all",
      releaseAt: input.now + Math.round(input.holdMinutes * 60_000),
      recipients: input.recipients,
    },
  ];
}
