import { offerToMailbox } from '../../actors/mailbox';

describe('mailbox admission policy', () => {
  const offer = (depth: number, jobs: number) => {
    let remaining = jobs;
    const dropAgentJobs = jest.fn((n: number) => {
      const d = Math.min(n, remaining);
      remaining -= d;
      return d;
    });
    return { result: offerToMailbox({ limit: 3, depth, unstored: depth - jobs, dropAgentJobs }), dropAgentJobs };
  };

  it('accepts while there is room and drops nothing', () => {
    const { result, dropAgentJobs } = offer(2, 2);
    expect(result).toEqual({ accepted: true, droppedAgentJobs: 0 });
    expect(dropAgentJobs).not.toHaveBeenCalled();
  });

  it('when full, drops exactly enough agent jobs to make room', () => {
    expect(offer(4, 3).result).toEqual({ accepted: true, droppedAgentJobs: 2 });
  });

  it('refuses with a retry hint when the agent jobs cannot make enough room', () => {
    const { result } = offer(5, 1);
    expect(result).toMatchObject({ accepted: false, droppedAgentJobs: 1 });
    expect(result.accepted === false && result.retryAfterMs).toBeGreaterThanOrEqual(100);
  });
});
