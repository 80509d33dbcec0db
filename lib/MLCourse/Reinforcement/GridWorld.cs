namespace MLCourse.Reinforcement;

/// <summary>
/// A grid world (网格世界) drawn as text: <c>S</c> start, <c>.</c> free cell, <c>#</c> wall, <c>G</c> goal
/// (reward +1, ends the episode), <c>X</c> pit (reward −1, ends the episode). Four actions move up, right, down,
/// left; a move into a wall or off the grid leaves the agent where it is. Every other step costs
/// <see cref="StepReward"/>. With <see cref="Slip"/> &gt; 0 the move goes sideways (left or right of the intended
/// direction, half each) with that probability. States are cell indices row × columns + column; the model
/// (<see cref="Transitions"/>) is public so that value iteration can compute the exact values the learners estimate.
/// Introduced in chapter 17 (reinforcement learning).
/// </summary>
public sealed class GridWorld : IEnvironment<int>
{
    private static readonly (int Row, int Column)[] Moves = [(-1, 0), (0, 1), (1, 0), (0, -1)];
    private readonly string[] map;
    private Random random = new(0);
    private int state, steps;
    private bool over = true;

    /// <summary>A grid world from its rows of text (all the same length, exactly one <c>S</c>).</summary>
    public GridWorld(string[] map, double stepReward = 0, double slip = 0, int maxSteps = 100)
    {
        if (map.Length == 0 || map.Any(row => row.Length != map[0].Length))
            throw new ArgumentException("The map needs at least one row, all rows of the same length.", nameof(map));
        if (map.Sum(row => row.Count(c => c == 'S')) != 1)
            throw new ArgumentException("The map needs exactly one start cell 'S'.", nameof(map));
        if (map.Any(row => row.Any(c => ".#SGX".IndexOf(c) < 0)))
            throw new ArgumentException("Map cells are '.', '#', 'S', 'G' or 'X'.", nameof(map));
        if (slip is < 0 or > 1) throw new ArgumentOutOfRangeException(nameof(slip));
        this.map = map.ToArray();
        (StepReward, Slip, MaxSteps) = (stepReward, slip, maxSteps);
        Start = Enumerable.Range(0, StateCount).First(s => Cell(s) == 'S');
    }

    /// <summary>The names of the four actions, in order: up, right, down, left.</summary>
    public static IReadOnlyList<string> ActionNames { get; } = ["↑", "→", "↓", "←"];

    /// <summary>Rows of the grid.</summary>
    public int Rows => map.Length;
    /// <summary>Columns of the grid.</summary>
    public int Columns => map[0].Length;
    /// <summary>Number of states, one per cell (walls included, though never visited).</summary>
    public int StateCount => Rows * Columns;
    /// <summary>Four actions: 0 up, 1 right, 2 down, 3 left.</summary>
    public int ActionCount => 4;
    /// <summary>Reward of every step that does not enter the goal or a pit.</summary>
    public double StepReward { get; }
    /// <summary>Probability that a move goes sideways instead.</summary>
    public double Slip { get; }
    /// <summary>Step limit of an episode.</summary>
    public int MaxSteps { get; }
    /// <summary>The start state.</summary>
    public int Start { get; }

    /// <summary>The map character of <paramref name="state"/>.</summary>
    public char Cell(int state) => map[state / Columns][state % Columns];
    /// <summary>True for the goal and the pits: the episode ends on entering them.</summary>
    public bool IsTerminal(int state) => Cell(state) is 'G' or 'X';
    /// <summary>True for walls.</summary>
    public bool IsWall(int state) => Cell(state) == '#';

    /// <summary>
    /// The model p(s′, r | s, a): each possible outcome of <paramref name="action"/> in <paramref name="state"/> with
    /// its probability, next state and reward (outcomes that land on the same cell are merged).
    /// </summary>
    public IReadOnlyList<(double Probability, int Next, double Reward)> Transitions(int state, int action)
    {
        var outcomes = new List<(double Probability, int Next, double Reward)>();
        void Add(double p, int direction)
        {
            if (p <= 0) return;
            int next = Move(state, direction);
            int i = outcomes.FindIndex(o => o.Next == next);
            if (i >= 0) outcomes[i] = (outcomes[i].Probability + p, next, outcomes[i].Reward);
            else outcomes.Add((p, next, Reward(next)));
        }
        Add(1 - Slip, action);
        Add(Slip / 2, (action + 1) % 4);
        Add(Slip / 2, (action + 3) % 4);
        return outcomes;
    }

    /// <summary>
    /// Value iteration (值迭代): repeats V(s) ← max_a Σ p(s′|s,a) [r + γ V(s′)] (terminal states keep V = 0) until no
    /// value moves more than <paramref name="tolerance"/>. Returns V per state, Q[s][a] from the final V, and the
    /// number of sweeps. The exact answer the tabular learners approximate.
    /// </summary>
    public (double[] Values, double[][] Q, int Sweeps) ValueIteration(double gamma, double tolerance = 1e-10, int maxSweeps = 100_000)
    {
        var V = new double[StateCount];
        int sweeps = 0;
        while (sweeps < maxSweeps)
        {
            sweeps++;
            double change = 0;
            for (int s = 0; s < StateCount; s++)
            {
                if (IsTerminal(s) || IsWall(s)) continue;
                double best = Enumerable.Range(0, ActionCount).Max(a => Backup(V, s, a, gamma));
                change = Math.Max(change, Math.Abs(best - V[s]));
                V[s] = best;
            }
            if (change < tolerance) break;
        }
        var Q = Enumerable.Range(0, StateCount)
            .Select(s => Enumerable.Range(0, ActionCount).Select(a => IsTerminal(s) || IsWall(s) ? 0 : Backup(V, s, a, gamma)).ToArray())
            .ToArray();
        return (V, Q, sweeps);
    }

    /// <summary>Starts an episode at <see cref="Start"/>; <paramref name="random"/> drives the slips of this episode.</summary>
    public int Reset(Random random)
    {
        this.random = random;
        (state, steps, over) = (Start, 0, false);
        return state;
    }

    /// <summary>Moves (or slips) one cell.</summary>
    public StepResult<int> Step(int action)
    {
        if (over) throw new InvalidOperationException("The episode is over; call Reset first.");
        if (action < 0 || action >= ActionCount) throw new ArgumentOutOfRangeException(nameof(action));
        double u = random.NextDouble(), cumulative = 0;
        var outcomes = Transitions(state, action);
        var (_, next, reward) = outcomes[^1];
        foreach (var o in outcomes)
        {
            cumulative += o.Probability;
            if (u < cumulative) { (next, reward) = (o.Next, o.Reward); break; }
        }
        state = next;
        steps++;
        bool terminated = IsTerminal(state);
        bool truncated = !terminated && steps >= MaxSteps;
        over = terminated || truncated;
        return new StepResult<int>(state, reward, terminated, truncated);
    }

    private double Backup(double[] V, int s, int a, double gamma)
        => Transitions(s, a).Sum(o => o.Probability * (o.Reward + (IsTerminal(o.Next) ? 0 : gamma * V[o.Next])));

    private int Move(int state, int direction)
    {
        int row = state / Columns + Moves[direction].Row, column = state % Columns + Moves[direction].Column;
        if (row < 0 || row >= Rows || column < 0 || column >= Columns || map[row][column] == '#') return state;
        return row * Columns + column;
    }

    private double Reward(int next) => Cell(next) switch { 'G' => 1.0, 'X' => -1.0, _ => StepReward };
}
