using MLCourse.Reinforcement;

namespace MLCourse.Tests.Reinforcement;

public class CartPoleTests
{
    [Fact]
    public void A_push_right_from_rest_matches_the_hand_computed_first_two_Euler_steps()
    {
        // By hand, θ = θ̇ = 0, F = +10 N: t = 10 / 1.1 = 9.090909; θ̈ = −t / (0.5 · (4/3 − 0.1/1.1)) = −14.634146;
        // ẍ = t − 0.05 · θ̈ / 1.1 = 9.756098. Euler step 1 moves only the velocities.
        var env = new CartPole();
        env.SetState(0, 0, 0, 0);
        var (xAcc, thetaAcc) = CartPole.Accelerations(0, 0, 10);
        Assert.Equal(9.756098, xAcc, 5);
        Assert.Equal(-14.634146, thetaAcc, 5);

        var first = env.Step(1);
        Assert.Equal(1.0, first.Reward);
        Assert.False(first.Done);
        var s1 = env.State;
        Assert.Equal(0, s1.X, 12);
        Assert.Equal(0.19512195, s1.XDot, 7);
        Assert.Equal(0, s1.Theta, 12);
        Assert.Equal(-0.29268293, s1.ThetaDot, 7);

        // Step 2 by hand from (0, 0.195122, 0, −0.292683): positions move with the old velocities;
        // t = 10/1.1 (sin 0 = 0), so the accelerations are those of step 1 again.
        env.Step(1);
        var s2 = env.State;
        Assert.Equal(0.02 * 0.19512195, s2.X, 8);
        Assert.Equal(2 * 0.19512195, s2.XDot, 7);
        Assert.Equal(0.02 * -0.29268293, s2.Theta, 8);
        Assert.Equal(2 * -0.29268293, s2.ThetaDot, 7);
    }

    [Fact]
    public void Gravity_alone_tips_a_leaning_pole_further_and_pushes_the_cart_the_other_way()
    {
        var (xAcc, thetaAcc) = CartPole.Accelerations(0.1, 0, 0);
        Assert.True(thetaAcc > 0, "a pole leaning right falls right");
        Assert.True(xAcc < 0, "the reaction pushes the cart left");
        var mirrored = CartPole.Accelerations(-0.1, 0, 0);
        Assert.Equal(-thetaAcc, mirrored.ThetaAcc, 12);
    }

    [Fact]
    public void The_episode_terminates_past_12_degrees_and_past_2_point_4_metres()
    {
        var env = new CartPole();
        env.SetState(0, 0, 12 * Math.PI / 180 - 1e-6, 1.0);   // θ crosses 12° in this step
        var fell = env.Step(1);
        Assert.True(fell.Terminated);
        Assert.False(fell.Truncated);
        Assert.Throws<InvalidOperationException>(() => env.Step(0));

        env.SetState(2.399, 1.0, 0, 0);                          // x moves by 0.02 past 2.4
        Assert.True(env.Step(1).Terminated);

        env.SetState(0, 0, 0.2, 0);                              // 0.2 rad = 11.46°, still standing for one step
        Assert.False(env.Step(1).Done);
    }

    [Fact]
    public void Episodes_are_truncated_at_the_step_cap_and_a_simple_controller_survives_longer_than_random()
    {
        var env = new CartPole(maxSteps: 500);
        var random = new Random(1);
        int Run(Func<float[], int> policy)
        {
            var obs = env.Reset(random);
            int steps = 0;
            while (true)
            {
                var r = env.Step(policy(obs));
                steps++;
                obs = r.Observation;
                if (r.Done) { if (steps == 500) Assert.True(r.Truncated); return steps; }
            }
        }
        double randomMean = Enumerable.Range(0, 20).Average(_ => Run(_ => random.Next(2)));
        double pdMean = Enumerable.Range(0, 20).Average(_ => Run(o => o[2] + 0.5 * o[3] > 0 ? 1 : 0));
        Assert.InRange(randomMean, 8, 60);
        Assert.True(pdMean > 2 * randomMean, $"push toward the lean: {pdMean} vs random {randomMean}");
        var small = new CartPole(maxSteps: 3);
        small.Reset(random);
        small.Step(0); small.Step(1);
        var third = small.Step(0);
        Assert.True(third.Truncated && !third.Terminated);
    }
}
