namespace MLCourse.Reinforcement;

/// <summary>
/// The cart-pole (倒立摆) balancing task of Barto, Sutton and Anderson (1983): a pole hinged on a cart that moves
/// on a frictionless track; each step the agent pushes the cart left or right with a fixed force. The observation is
/// (x, ẋ, θ, θ̇): cart position (m), cart velocity (m/s), pole angle from upright (rad, positive = leaning right) and
/// its angular velocity. Reward 1 per step survived; the episode terminates when |θ| &gt; 12° or |x| &gt; 2.4 m and is
/// truncated after <see cref="MaxSteps"/> steps. Dynamics integrated with the explicit Euler method, τ = 0.02 s.
/// Introduced in chapter 17 (reinforcement learning).
/// </summary>
public sealed class CartPole : IEnvironment<float[]>
{
    /// <summary>Gravitational acceleration g (m/s²).</summary>
    public const double Gravity = 9.8;
    /// <summary>Mass of the cart (kg).</summary>
    public const double CartMass = 1.0;
    /// <summary>Mass of the pole (kg).</summary>
    public const double PoleMass = 0.1;
    /// <summary>Half the pole's length, the distance from the hinge to its centre of mass (m).</summary>
    public const double HalfLength = 0.5;
    /// <summary>Magnitude of the push (N).</summary>
    public const double Force = 10.0;
    /// <summary>Time step of the Euler integration (s).</summary>
    public const double Tau = 0.02;
    /// <summary>The pole has fallen beyond this angle: 12° in radians.</summary>
    public const double AngleLimit = 12 * Math.PI / 180;
    /// <summary>The cart has left the track beyond this position (m).</summary>
    public const double PositionLimit = 2.4;

    private double x, xDot, theta, thetaDot;
    private int steps;
    private bool over = true;

    /// <summary>A cart-pole whose episodes are cut after <paramref name="maxSteps"/> steps (500 by default).</summary>
    public CartPole(int maxSteps = 500) => MaxSteps = maxSteps;

    /// <summary>The step limit of an episode.</summary>
    public int MaxSteps { get; }

    /// <summary>Two actions: 0 pushes left, 1 pushes right.</summary>
    public int ActionCount => 2;

    /// <summary>The current state (x, ẋ, θ, θ̇) in double precision.</summary>
    public (double X, double XDot, double Theta, double ThetaDot) State => (x, xDot, theta, thetaDot);

    /// <summary>Starts with each state variable drawn uniformly from [−0.05, 0.05].</summary>
    public float[] Reset(Random random)
    {
        double U() => random.NextDouble() * 0.1 - 0.05;
        return SetState(U(), U(), U(), U());
    }

    /// <summary>Starts an episode from a given state (tests, demonstrations) and returns its observation.</summary>
    public float[] SetState(double x, double xDot, double theta, double thetaDot)
    {
        (this.x, this.xDot, this.theta, this.thetaDot) = (x, xDot, theta, thetaDot);
        steps = 0;
        over = false;
        return Observation();
    }

    /// <summary>
    /// The accelerations (ẍ, θ̈) of the cart and the pole under a horizontal push <paramref name="force"/> (N),
    /// from the equations of motion of a uniform rod of mass m and half-length l on a cart of mass M:
    /// θ̈ = (g sin θ − cos θ · t) / (l (4/3 − m cos²θ / (M + m))), ẍ = t − m l θ̈ cos θ / (M + m),
    /// where t = (F + m l θ̇² sin θ) / (M + m).
    /// </summary>
    public static (double XAcc, double ThetaAcc) Accelerations(double theta, double thetaDot, double force)
    {
        double totalMass = CartMass + PoleMass, poleMoment = PoleMass * HalfLength;
        double cos = Math.Cos(theta), sin = Math.Sin(theta);
        double t = (force + poleMoment * thetaDot * thetaDot * sin) / totalMass;
        double thetaAcc = (Gravity * sin - cos * t) / (HalfLength * (4.0 / 3.0 - PoleMass * cos * cos / totalMass));
        double xAcc = t - poleMoment * thetaAcc * cos / totalMass;
        return (xAcc, thetaAcc);
    }

    /// <summary>Pushes left (0) or right (1) for one time step τ.</summary>
    public StepResult<float[]> Step(int action)
    {
        if (over) throw new InvalidOperationException("The episode is over; call Reset first.");
        if (action is not (0 or 1)) throw new ArgumentOutOfRangeException(nameof(action), "CartPole has actions 0 (left) and 1 (right).");
        var (xAcc, thetaAcc) = Accelerations(theta, thetaDot, action == 1 ? Force : -Force);
        // explicit Euler: positions move with the old velocities, velocities with the accelerations
        x += Tau * xDot;
        xDot += Tau * xAcc;
        theta += Tau * thetaDot;
        thetaDot += Tau * thetaAcc;
        steps++;
        bool terminated = Math.Abs(x) > PositionLimit || Math.Abs(theta) > AngleLimit;
        bool truncated = !terminated && steps >= MaxSteps;
        over = terminated || truncated;
        return new StepResult<float[]>(Observation(), 1.0, terminated, truncated);
    }

    private float[] Observation() => [(float)x, (float)xDot, (float)theta, (float)thetaDot];
}
