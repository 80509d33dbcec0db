using MLCourse.Lifelong;

namespace MLCourse.Tests.Lifelong;

public class AccuracyMatrixTests
{
    // after task 0: 0.9 on task 0; after task 1: task 0 fell to 0.6; after task 2: task 0 at 0.5, task 1 at 0.7
    private static readonly double[][] R =
    [
        [0.9, 0.2, 0.1],
        [0.6, 0.95, 0.3],
        [0.5, 0.7, 0.92],
    ];

    [Fact]
    public void Average_accuracy_is_the_mean_of_the_last_row()
        => Assert.Equal((0.5 + 0.7 + 0.92) / 3, AccuracyMatrix.AverageAccuracy(R), 12);

    [Fact]
    public void Backward_transfer_compares_the_last_row_with_the_diagonal()
        => Assert.Equal(((0.5 - 0.9) + (0.7 - 0.95)) / 2, AccuracyMatrix.BackwardTransfer(R), 12);

    [Fact]
    public void Forward_transfer_compares_the_upper_diagonal_with_the_baseline()
        => Assert.Equal(((0.2 - 0.1) + (0.3 - 0.1)) / 2, AccuracyMatrix.ForwardTransfer(R, [0.1, 0.1, 0.1]), 12);

    [Fact]
    public void No_forgetting_gives_zero_backward_transfer_and_a_non_square_matrix_is_rejected()
    {
        double[][] perfect = [[1, 0], [1, 1]];
        Assert.Equal(0, AccuracyMatrix.BackwardTransfer(perfect));
        Assert.Throws<ArgumentException>(() => AccuracyMatrix.AverageAccuracy([[1, 0]]));
    }
}
