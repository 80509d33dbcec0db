namespace MLCourse.Reinforcement;

/// <summary>
/// What an environment (环境) returns after one action: the new observation, the reward (奖励), whether the episode
/// ended because of the task (<see cref="Terminated"/>: goal reached, pole fell) or because of a time limit
/// (<see cref="Truncated"/>). The gym convention. Introduced in chapter 17 (reinforcement learning).
/// </summary>
/// <param name="Observation">What the agent sees after the action.</param>
/// <param name="Reward">The reward for this step.</param>
/// <param name="Terminated">The episode ended for a reason inside the task; no future reward follows.</param>
/// <param name="Truncated">The episode was cut by the step limit; the state itself is not terminal.</param>
public readonly record struct StepResult<TObservation>(TObservation Observation, double Reward, bool Terminated, bool Truncated)
{
    /// <summary>True when the episode is over for either reason.</summary>
    public bool Done => Terminated || Truncated;
}

/// <summary>
/// A small gym-like environment: <see cref="Reset"/> starts an episode, <see cref="Step"/> applies one of
/// <see cref="ActionCount"/> discrete actions. The actor (智能体) sees only observations and rewards.
/// Introduced in chapter 17 (reinforcement learning).
/// </summary>
public interface IEnvironment<TObservation>
{
    /// <summary>Number of discrete actions, numbered 0..ActionCount−1.</summary>
    int ActionCount { get; }

    /// <summary>Starts a new episode and returns the first observation; <paramref name="random"/> draws any randomness of the start.</summary>
    TObservation Reset(Random random);

    /// <summary>Applies <paramref name="action"/> and returns what happened.</summary>
    StepResult<TObservation> Step(int action);
}
