using MLCourse.Reinforcement;

namespace MLCourse.Tests.Reinforcement;

public class GridWorldTests
{
    [Fact]
    public void Value_iteration_on_a_corridor_discounts_the_goal_by_gamma_per_step()
    {
        // S . . G, no step cost, γ = 0.9: V = 0.81, 0.9, 1 (one step from G earns 1), terminal 0.
        var world = new GridWorld(["S..G"]);
        var (V, Q, _) = world.ValueIteration(0.9);
        Assert.Equal(0.81, V[0], 9);
        Assert.Equal(0.9, V[1], 9);
        Assert.Equal(1.0, V[2], 9);
        Assert.Equal(0.0, V[3], 9);
        Assert.Equal(1.0, Q[2][1], 9);           // → into the goal
        Assert.Equal(0.9 * 0.81, Q[0][3], 9);    // ← bumps the edge, stays at S
    }

    [Fact]
    public void Value_iteration_with_a_step_cost_and_slips_matches_the_bellman_equations_solved_by_hand()
    {
        // One row "SG": from S, → reaches G with prob 0.8; the two sideways slips (↑, ↓) bump the edges and stay.
        // V = 0.8·1 + 0.2·(−0.1 + γV) with γ = 1 → V = (0.8 − 0.02) / 0.8 = 0.975.
        var world = new GridWorld(["SG"], stepReward: -0.1, slip: 0.2);
        var (V, _, _) = world.ValueIteration(1.0, 1e-12);
        Assert.Equal(0.975, V[0], 8);
        var t = world.Transitions(0, 1);
        Assert.Equal(2, t.Count);
        Assert.Equal(1.0, t.Sum(o => o.Probability), 12);
    }

    [Fact]
    public void Walls_block_moves_pits_end_the_episode_and_episodes_are_truncated()
    {
        var world = new GridWorld(["S#", ".X"], maxSteps: 3);
        Assert.Equal(0, world.Reset(new Random(0)));
        var bump = world.Step(1);                // → into the wall
        Assert.Equal(0, bump.Observation);
        Assert.Equal(0.0, bump.Reward);
        var down = world.Step(2);
        Assert.Equal(2, down.Observation);
        var pit = world.Step(1);
        Assert.Equal(3, pit.Observation);
        Assert.Equal(-1.0, pit.Reward);
        Assert.True(pit.Terminated);

        world.Reset(new Random(0));
        world.Step(0); world.Step(0);
        Assert.True(world.Step(0).Truncated);
        Assert.Throws<ArgumentException>(() => new GridWorld(["..G"]));
    }
}
